// BatchNorm that can normalise over the global batch (SyncBatchNorm). While a GlobalBatchStatistics
// scope is alive, every BatchNorm in training mode takes its mean and variance over the batches of
// all ranks of the scope's communicator: one sum all-reduce of (Σx, Σx², count) per channel in the
// forward pass and one of (Σg, Σg·x̂) in the backward pass. N ranks with batch B then normalise, and
// propagate gradients, exactly as one process with batch N·B; the running statistics are the same
// on every rank. Outside a scope, or in eval mode, it is torch::nn::BatchNorm. The parameters and
// buffers have torch::nn::BatchNorm's names (weight, bias, running_mean, running_var,
// num_batches_tracked), so checkpoints and imported weights do not depend on which is used.
#pragma once
#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/pimpl.h>

namespace avf::dist {
class Communicator;
}

namespace avf {

class BatchNormImpl : public torch::nn::Cloneable<BatchNormImpl> {
 public:
  explicit BatchNormImpl(const torch::nn::BatchNormOptions& options);
  explicit BatchNormImpl(int64_t features) : BatchNormImpl(torch::nn::BatchNormOptions(features)) {}
  void reset() override;
  // x: [B, C, ...] (2D or 3D feature maps).
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(BatchNorm);

// While alive, BatchNorm layers in training mode use the statistics of the global batch over `comm`
// (every rank must run the same forward and backward passes: each layer is a collective). With a
// null communicator or one rank the statistics are the local batch's, computed the same way, so a
// 1-rank run equals an N-rank run up to the order of floating-point sums. Not nestable.
class GlobalBatchStatistics {
 public:
  explicit GlobalBatchStatistics(dist::Communicator* comm);
  ~GlobalBatchStatistics();
  GlobalBatchStatistics(const GlobalBatchStatistics&) = delete;
  GlobalBatchStatistics& operator=(const GlobalBatchStatistics&) = delete;
};

}  // namespace avf
