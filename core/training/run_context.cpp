#include "core/training/run_context.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstdlib>

#include "core/base/log.h"
#include "dist/binding.h"
#include "dist/watchdog.h"

namespace avf {

RunContext start_run(const Config& c) {
  RunContext ctx;
  dist::set_wait_timeout(c.dist.timeout);  // start-up already waits on the other ranks
  ctx.world = dist::init_process_group();
  log::init(ctx.world.rank, ctx.world.size, c.log.all_ranks);
  const bool cuda = c.train.device == "cuda" || (c.train.device == "auto" && torch::cuda::is_available());
  if (cuda && !torch::cuda::is_available())
    throw ConfigError("train.device=cuda but this LibTorch or machine has no CUDA");
  if (cuda) ctx.device = torch::Device(torch::kCUDA, ctx.world.local_rank % int(torch::cuda::device_count()));
  const auto binding =
      dist::bind_local_rank(ctx.world.local_rank, ctx.world.local_size, c.dist.bind, cuda ? ctx.device.index() : -1);
  // Intra-op threads = the cores this rank owns, so ranks never oversubscribe the node.
  ctx.threads = c.train.threads > 0 ? c.train.threads : std::max(1, binding.cores);
  torch::set_num_threads(ctx.threads);
  if (c.train.deterministic) {
    if (cuda) {
      // cuBLAS is deterministic only with a fixed workspace, set before its first handle. Some CUDA
      // kernels (e.g. max_pool3d's backward, which I3D uses) have no deterministic version: they
      // warn instead of failing, so GPU runs are reproducible only up to those kernels' atomics.
      setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
      at::globalContext().setBenchmarkCuDNN(false);
      at::globalContext().setDeterministicCuDNN(true);
      at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
    } else {
      at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
    }
  }
  ctx.comm = dist::make_communicator({c.dist.backend, c.dist.timeout, c.dist.debug}, ctx.device);
  log::info("{}; {}; {} intra-op thread{}; device {}; communicator {}", dist::describe(ctx.world), binding.description,
            ctx.threads, ctx.threads == 1 ? "" : "s", ctx.device.str(), ctx.comm->backend());
  return ctx;
}

}  // namespace avf
