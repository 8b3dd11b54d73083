// MPI backend for CPU tensors. One worker thread issues every MPI call in submission order, so a
// collective runs while autograd keeps computing on the caller's threads (real overlap without
// relying on MPI's asynchronous progress), and MPI is never entered by two threads at once.
#pragma once
#include <mpi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "dist/collective_tracker.h"
#include "dist/communicator.h"

namespace avf::dist {

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(double timeout_s, bool debug);
  ~MpiCommunicator() override;
  std::string backend() const override { return "mpi"; }
  WorkPtr allreduce(torch::Tensor tensor, ReduceOp op, const std::string& what) override;
  WorkPtr broadcast(torch::Tensor tensor, int root, const std::string& what) override;
  WorkPtr allgather(torch::Tensor input, torch::Tensor output, const std::string& what) override;
  WorkPtr barrier(const std::string& what = "barrier") override;

 private:
  // Queues `body` for the worker; `signature` describes the call for the debug-mode cross-check.
  WorkPtr submit(const std::string& what, const std::string& signature, std::function<void()> body);
  void worker();

  MPI_Comm comm_;  // a duplicate of MPI_COMM_WORLD: our traffic never mixes with anyone else's
  bool debug_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  CollectiveTracker tracker_;
  std::thread thread_;
};

}  // namespace avf::dist
