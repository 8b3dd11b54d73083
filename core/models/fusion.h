// Fusion heads: per-sub-sequence audio and visual features in, per-sub-sequence predictions out.
// Selected by name with make_fusion (model.fusion).
#pragma once
#include <torch/nn.h>

#include <string>
#include <utility>
#include <vector>

#include "core/base/config.h"

namespace avf {

struct FusionOutput {
  torch::Tensor prediction;  // [B, L, targets]
  // Attention maps by name, one 2-D map per sequence: [B, L, L] for the correlation heads
  // ("stage1.audio" = A_a, "stage1.visual" = A_v, …); each head's header gives its maps and their
  // shapes. For `avf predict --attention`; empty for heads without attention. They are the same tensors the
  // forward pass used (kept for backward anyway), so returning them costs nothing.
  std::vector<std::pair<std::string, torch::Tensor>> attention;
};

class FusionImpl : public torch::nn::Module {
 public:
  // audio, visual: [B, L, K] features of the L sub-sequences of B sequences.
  virtual FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) = 0;
};
TORCH_MODULE(Fusion);

// The paper's regressor on the fused features: dropout (on the attended A-V features) → fully
// connected → ReLU → fully connected, applied to every sub-sequence.
class PredictionHeadImpl : public torch::nn::Module {
 public:
  PredictionHeadImpl(int64_t in, int64_t hidden, int64_t n_targets, double dropout);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(PredictionHead);

// cross-attention | cross-attention-2stage | concat | self-attention | lstm | joint-cross-attention |
// recursive-joint-cross-attention | gated-recursive-joint-cross-attention | transformer, sized by the
// model.* keys; both modalities have feature_dim features. The joint heads' weights are L x L, so they
// need n_subsequences = L (data.sequence-frames / data.subsequence-frames); the others ignore it.
// Unknown names and missing L throw ConfigError.
Fusion make_fusion(const ModelConfig& model, int64_t feature_dim, int64_t n_targets, int64_t n_subsequences = 0);

}  // namespace avf
