// NCCL backend for CUDA tensors (CPU tensors, e.g. evaluation statistics, are staged through the
// GPU and copied back when the Work is waited on). The unique id is created on rank 0 and broadcast over MPI; every
// collective runs on the communicator's own stream, ordered after the work already queued on the
// default stream (where LibTorch computes unless told otherwise). The tracker's watchdog also polls
// ncclCommGetAsyncError and aborts the communicator on an asynchronous error.
// Compiled only with AVF_WITH_NCCL; runs only where a GPU exists.
#pragma once
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <functional>

#include "dist/collective_tracker.h"
#include "dist/communicator.h"

namespace avf::dist {

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(double timeout_s, bool debug, int device);
  ~NcclCommunicator() override;
  std::string backend() const override { return "nccl"; }
  WorkPtr allreduce(torch::Tensor tensor, ReduceOp op, const std::string& what) override;
  WorkPtr broadcast(torch::Tensor tensor, int root, const std::string& what) override;
  WorkPtr allgather(torch::Tensor input, torch::Tensor output, const std::string& what) override;
  WorkPtr barrier(const std::string& what = "barrier") override;

 private:
  // Orders the NCCL stream after the default stream, runs `launch`, and returns a Work on its event.
  template <class Launch>
  WorkPtr enqueue(const std::string& what, const std::string& signature, Launch launch,
                  std::function<void()> after_wait);
  torch::Tensor on_device(const torch::Tensor& t) const;  // a CPU tensor's copy on this GPU

  int device_ = 0;
  bool debug_;
  MPI_Comm mpi_;  // for the unique id, barrier and the debug cross-check
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  CollectiveTracker tracker_;
};

}  // namespace avf::dist
