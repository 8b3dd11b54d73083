// Our DistributedDataParallel: keeps replicas identical and averages gradients across ranks.
//
// Gradients live in flat buckets (reverse registration order, since backward produces the last
// layers' gradients first; a small first bucket so communication starts early): each parameter's
// .grad is a view into its bucket, so autograd accumulates straight into the buffer that is
// all-reduced and the averages land in .grad in place, with no copy in or out. A post-hook on each
// parameter's gradient accumulator counts the bucket down; a full bucket is all-reduced
// asynchronously right away, in bucket order on every rank, while backward goes on. finalize()
// launches what is left (parameters that got no gradient count as zeros) and waits. This class is
// the controller (what to reduce, when); the Communicator does the reduction.
#pragma once
#include <torch/nn/module.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace avf::dist {

struct ReducerOptions {
  double bucket_mb = 25.0;
  double first_bucket_mb = 1.0;
  // false: the naive pattern, kept as the baseline to beat: no hooks, no buckets; after backward,
  // one blocking all-reduce per parameter (a zero gradient for one this rank did not use).
  bool bucketed = true;
  // true: gradients are averaged over ranks (the loss is each rank's own mean). false: summed, for
  // losses that already carry the 1/N (a global-batch loss, or a local loss divided by the world
  // size): no averaging pass after the all-reduce.
  bool average = true;
};

struct BucketTiming {
  size_t bytes;
  double launched_s;  // seconds after prepare_for_backward(); launched before backward_end_s = overlap
};

struct StepTiming {
  double backward_end_s = 0;  // when finalize() was entered (backward had returned)
  double exposed_comm_s = 0;  // time finalize() spent waiting for communication
  std::vector<BucketTiming> buckets;
};

class Reducer {
 public:
  // Checks that every rank has the same parameter and buffer shapes (clear error naming the first
  // difference), then broadcasts parameters and buffers from rank 0.
  Reducer(torch::nn::Module& module, Communicator& comm, ReducerOptions options = {});
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  void prepare_for_backward();  // call before loss.backward()
  void finalize();              // call after loss.backward(), before optimizer.step()
  // Gradient accumulation: while false, backward only accumulates locally (no communication).
  void set_sync(bool sync) { sync_ = sync; }
  bool sync() const { return sync_; }
  // BatchNorm running statistics: broadcast rank 0's so every replica evaluates identically.
  void sync_buffers();

  size_t bucket_count() const { return buckets_.size(); }
  const StepTiming& last_step() const { return timing_; }

 private:
  struct Slot {
    size_t param;  // index into params_
    int64_t offset;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<Slot> slots;
    int64_t flags_offset = 0;     // flat[flags_offset + k]: slot k had a gradient on some rank
    std::vector<float> has_grad;  // this rank's flags, written into flat when the bucket launches
    size_t pending = 0;
    WorkPtr work;
  };
  void build_buckets(const ReducerOptions& options);
  void register_hooks();
  void on_gradient_ready(size_t param);
  // Makes slot k's gradient the bucket view (copying a gradient autograd allocated elsewhere, zeros
  // if there is none) and records whether it had one.
  void fill_slot(size_t k, Bucket& bucket);
  void launch_ready_buckets();   // in order; caller holds mutex_
  void reduce_each_parameter();  // the naive pattern
  double now_s() const;

  Communicator& comm_;
  std::vector<torch::Tensor> params_;      // registration order, requires_grad only
  std::vector<torch::Tensor> grad_views_;  // per param: its gradient's place in its bucket
  std::vector<torch::Tensor> buffers_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // keep the hooked nodes alive
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // per param
  std::vector<bool> ready_;        // per param, this step
  size_t next_launch_ = 0;
  bool bucketed_ = true;
  ReduceOp op_ = ReduceOp::avg;
  bool armed_ = false;
  bool sync_ = true;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point step_start_;
  StepTiming timing_;
};

// Broadcasts `tensors` from `root` in place: one collective per dtype, not one per tensor.
void broadcast_tensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root);

}  // namespace avf::dist
