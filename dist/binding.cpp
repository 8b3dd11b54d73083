#include "dist/binding.h"

#include <fmt/format.h>
#include <hwloc.h>
#if AVF_HAVE_NCCL
#include <hwloc/cudart.h>
#endif

#include <stdexcept>
#include <vector>

namespace avf::dist {
namespace {

std::string cpuset_text(hwloc_const_bitmap_t set) {
  char* text = nullptr;
  hwloc_bitmap_list_asprintf(&text, set);
  std::string out = text ? text : "?";
  free(text);
  return out;
}

}  // namespace

Binding bind_local_rank(int local_rank, int local_size, const std::string& mode, int gpu) {
  hwloc_topology_t topo;
  hwloc_topology_init(&topo);
  hwloc_topology_load(topo);
  const int total_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  Binding result;
  if (mode == "none") {
    result.cores = total_cores;
    result.description = fmt::format("rank not bound (dist.bind=none), {} cores on the node", total_cores);
    hwloc_topology_destroy(topo);
    return result;
  }

  // Candidate cores: all, or those near the rank's GPU.
  std::vector<hwloc_obj_t> cores;
  hwloc_bitmap_t near_gpu = nullptr;
#if AVF_HAVE_NCCL
  if (gpu >= 0) {
    near_gpu = hwloc_bitmap_alloc();
    if (hwloc_cudart_get_device_cpuset(topo, gpu, near_gpu) != 0) hwloc_bitmap_free(near_gpu), near_gpu = nullptr;
  }
#endif
  for (int i = 0; i < total_cores; ++i) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, i);
    if (!near_gpu || hwloc_bitmap_intersects(core->cpuset, near_gpu)) cores.push_back(core);
  }
  if (cores.empty()) throw std::runtime_error("hwloc found no cores to bind to");
  // An even, contiguous share per local rank; ranks share cores only when there are more ranks than cores.
  const int n = int(cores.size());
  const int first = n >= local_size ? local_rank * n / local_size : local_rank % n;
  const int last = n >= local_size ? (local_rank + 1) * n / local_size : first + 1;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  for (int i = first; i < last; ++i) hwloc_bitmap_or(set, set, cores[i]->cpuset);
  if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) != 0)
    throw std::runtime_error(fmt::format("hwloc could not bind local rank {} to PUs {}", local_rank, cpuset_text(set)));
  result.cores = last - first;
  result.description =
      fmt::format("local rank {} bound to PUs {} ({} core{}{})", local_rank, cpuset_text(set), result.cores,
                  result.cores == 1 ? "" : "s", near_gpu ? fmt::format(", near GPU {}", gpu) : "");
  hwloc_bitmap_free(set);
  if (near_gpu) hwloc_bitmap_free(near_gpu);
  hwloc_topology_destroy(topo);
  return result;
}

}  // namespace avf::dist
