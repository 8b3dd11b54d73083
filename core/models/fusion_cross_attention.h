// Cross-attentional A-V fusion, Section III-C, equations 1-5.
#pragma once
#include "core/models/fusion.h"

namespace avf {

// One cross-attention stage. In the paper's notation X_a, X_v are K x L (one column per
// sub-sequence); here they arrive as [B, L, K], i.e. X^T per sequence, and the code keeps the paper's
// matrices: Z and A_a, A_v are [B, L, L] with the paper's row and column indices.
class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(int64_t feature_dim, double temperature);
  struct Output {
    torch::Tensor audio, visual;                  // X_att,a and X_att,v as [B, L, K]
    torch::Tensor audio_weights, visual_weights;  // A_a, A_v as [B, L, L]
  };
  Output forward(const torch::Tensor& audio, const torch::Tensor& visual);

  torch::Tensor W;  // K x K, Xavier-initialised

 private:
  double temperature_;
};
TORCH_MODULE(CrossAttention);

// `stages` cross-attention stages in sequence (1 = the paper's model, 2 = Table III's 2-stage
// variant, each stage with its own W), then [X_att,v; X_att,a] → PredictionHead.
class CrossAttentionFusionImpl : public FusionImpl {
 public:
  CrossAttentionFusionImpl(int64_t feature_dim, int64_t n_targets, int stages, double temperature, int64_t hidden,
                           double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  std::vector<CrossAttention> stages;
  PredictionHead head{nullptr};
};
TORCH_MODULE(CrossAttentionFusion);

// Column-wise softmax with temperature (equation 2): each column of Z [B, L, L] sums to 1.
torch::Tensor column_softmax(const torch::Tensor& z, double temperature);
// X A (equation 3) for X given as [B, L, K]: returns (X A)^T as [B, L, K].
torch::Tensor attend(const torch::Tensor& x, const torch::Tensor& weights);

}  // namespace avf
