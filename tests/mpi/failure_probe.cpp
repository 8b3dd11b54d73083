// A two-rank program that fails on purpose, for tests/mpi/failure.sh: the job must end promptly, with
// a non-zero exit code and a message naming the rank and what failed.
//   throw:    rank 1 throws while rank 0 waits in an allreduce
//   timeout:  rank 1 never joins the allreduce (it is slow); rank 0's watchdog aborts the job
//   kill:     rank 1 dies from SIGKILL while rank 0 waits in an allreduce
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "core/base/exit_codes.h"
#include "dist/communicator.h"
#include "dist/process_group.h"

using namespace avf::dist;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto& pg = init_process_group();
  auto comm = make_communicator({"mpi", /*timeout_s=*/3, false}, torch::kCPU);
  try {
    comm->allreduce(torch::ones({4}), ReduceOp::sum, "warm-up")->wait();
    if (pg.rank == 1) {
      if (mode == "throw") throw std::runtime_error("injected failure in the training step");
      if (mode == "kill") std::raise(SIGKILL);
      if (mode == "timeout") std::this_thread::sleep_for(std::chrono::seconds(60));
    }
    comm->allreduce(torch::ones({1 << 20}), ReduceOp::sum, "gradient bucket 0")->wait();
  } catch (const std::exception& e) {
    fail_fast_if_distributed(avf::exit_code::failure, e.what());
  }
  return 0;
}
