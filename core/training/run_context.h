// What every distributed command (train, extract, evaluate) sets up first: the MPI world, logging,
// core binding and thread count, the device, determinism, and the communicator.
#pragma once
#include <torch/types.h>

#include <memory>

#include "core/base/config.h"
#include "dist/communicator.h"
#include "dist/process_group.h"

namespace avf {

struct RunContext {
  dist::ProcessGroup world;
  torch::Device device{torch::kCPU};
  int threads = 1;
  std::unique_ptr<dist::Communicator> comm;
};

RunContext start_run(const Config& config);

}  // namespace avf
