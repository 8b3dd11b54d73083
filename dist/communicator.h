// Collectives over the ranks of the job, on tensors. Two backends: MPI (CPU tensors; CUDA tensors are
// staged through host memory) and NCCL (CUDA tensors; CPU tensors are staged through the GPU), so
// control data on the CPU and gradients on the GPU go through one communicator. Every operation is asynchronous and
// returns a Work to wait on; operations complete in the order they were issued, which is the same on every rank.
#pragma once
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace avf::dist {

enum class ReduceOp { sum, avg, max, min };

class Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;  // blocks until done; rethrows the operation's error
  virtual bool completed() const = 0;
};
using WorkPtr = std::shared_ptr<Work>;

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string backend() const = 0;  // "mpi" or "nccl"
  int rank() const { return rank_; }
  int size() const { return size_; }

  // In place: every rank ends with the reduction of all ranks' `tensor` (contiguous).
  virtual WorkPtr allreduce(torch::Tensor tensor, ReduceOp op, const std::string& what = "allreduce") = 0;
  virtual WorkPtr broadcast(torch::Tensor tensor, int root, const std::string& what = "broadcast") = 0;
  // `output` holds size() * input.numel() elements: rank r's input lands at [r * n, (r + 1) * n).
  virtual WorkPtr allgather(torch::Tensor input, torch::Tensor output, const std::string& what = "allgather") = 0;
  // `what` names the barrier in the watchdog's message ("checkpoint barrier (...)").
  virtual WorkPtr barrier(const std::string& what = "barrier") = 0;

  // Convenience: gather tensors of different lengths (flat, same dtype) from every rank.
  std::vector<torch::Tensor> allgatherv(const torch::Tensor& input, const std::string& what = "allgatherv");

 protected:
  int rank_ = 0, size_ = 1;  // set by the backend's constructor
};

struct CommunicatorOptions {
  std::string backend = "auto";  // auto | mpi | nccl
  double timeout_s = 600;        // a collective older than this aborts the job
  bool debug = false;            // verify every collective matches across ranks
};

// Creates the communicator for `device`: NCCL for CUDA tensors when built with it, MPI otherwise.
// Requires init_process_group() first.
std::unique_ptr<Communicator> make_communicator(const CommunicatorOptions& options, torch::Device device);

}  // namespace avf::dist
