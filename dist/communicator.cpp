#include "dist/communicator.h"

#include <fmt/format.h>

#include <stdexcept>

#include "dist/mpi_communicator.h"
#include "dist/process_group.h"
#if AVF_HAVE_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace avf::dist {

std::vector<torch::Tensor> Communicator::allgatherv(const torch::Tensor& input, const std::string& what) {
  // Lengths first, then one allgather of inputs padded to the longest.
  auto lengths = torch::empty({size()}, torch::kLong);
  allgather(torch::tensor({input.numel()}, torch::kLong), lengths, what + " (lengths)")->wait();
  const int64_t longest = lengths.max().item<int64_t>();
  auto padded = torch::zeros({longest}, input.options());
  padded.narrow(0, 0, input.numel()).copy_(input.reshape(-1));
  auto all = torch::empty({size() * longest}, input.options());
  allgather(padded, all, what)->wait();
  std::vector<torch::Tensor> out;
  for (int r = 0; r < size(); ++r) out.push_back(all.narrow(0, r * longest, lengths[r].item<int64_t>()).clone());
  return out;
}

std::unique_ptr<Communicator> make_communicator(const CommunicatorOptions& options, torch::Device device) {
  std::string backend = options.backend;
  if (backend == "auto") backend = device.is_cuda() ? "nccl" : "mpi";
  if (backend == "mpi") {
    return std::make_unique<MpiCommunicator>(options.timeout_s, options.debug);
  }
  if (backend == "nccl") {
#if AVF_HAVE_NCCL
    if (!device.is_cuda()) throw std::invalid_argument("dist.backend=nccl needs train.device=cuda");
    return std::make_unique<NcclCommunicator>(options.timeout_s, options.debug,
                                              device.index() < 0 ? world().local_rank : device.index());
#else
    throw std::invalid_argument(
        "dist.backend=nccl: this avf was built without NCCL (configure with -DAVF_WITH_NCCL=ON)");
#endif
  }
  throw std::invalid_argument(fmt::format("dist.backend: unknown backend '{}'", backend));
}

}  // namespace avf::dist
