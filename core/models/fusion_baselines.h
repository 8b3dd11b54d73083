// The ablation baselines of Table II. All see the same concatenation [X_v; X_a] and end in the same
// PredictionHead as the cross-attention model, so only the fusion step differs.
#pragma once
#include "core/models/fusion.h"

namespace avf {

// Feature concatenation fed directly to the fully connected layers.
class ConcatFusionImpl : public FusionImpl {
 public:
  ConcatFusionImpl(int64_t feature_dim, int64_t n_targets, int64_t hidden, double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  PredictionHead head{nullptr};
};
TORCH_MODULE(ConcatFusion);

// Self-attention over the sub-sequences of the joint features: the cross-attention mechanism of
// equations 1-5 with X = [X_v; X_a] attending to itself (Z = X^T W X, W ∈ R^{2K x 2K}) instead of one
// modality attending to the other. Isolates what the inter-modal correlation adds.
class SelfAttentionFusionImpl : public FusionImpl {
 public:
  SelfAttentionFusionImpl(int64_t feature_dim, int64_t n_targets, double temperature, int64_t hidden, double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  torch::Tensor W;
  PredictionHead head{nullptr};

 private:
  double temperature_;
};
TORCH_MODULE(SelfAttentionFusion);

// The concatenated features through a one-layer LSTM (model.hidden units) over the L sub-sequences,
// then the fully connected layers.
class LstmFusionImpl : public FusionImpl {
 public:
  LstmFusionImpl(int64_t feature_dim, int64_t n_targets, int64_t hidden, double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  torch::nn::LSTM lstm{nullptr};
  PredictionHead head{nullptr};
};
TORCH_MODULE(LstmFusion);

}  // namespace avf
