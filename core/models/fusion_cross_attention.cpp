#include "core/models/fusion_cross_attention.h"

#include <torch/torch.h>

namespace avf {

torch::Tensor column_softmax(const torch::Tensor& z, double temperature) {
  // Z[b] is L x L with rows i and columns j; normalising over i (dim 1) makes every column sum to 1.
  return torch::softmax(z / temperature, 1);
}

torch::Tensor attend(const torch::Tensor& x, const torch::Tensor& weights) {
  // (X A)^T = A^T X^T, and X^T is what x holds.
  return torch::matmul(weights.transpose(1, 2), x);
}

CrossAttentionImpl::CrossAttentionImpl(int64_t feature_dim, double temperature) : temperature_(temperature) {
  W = register_parameter("W", torch::empty({feature_dim, feature_dim}));
  torch::nn::init::xavier_normal_(W);
}

CrossAttentionImpl::Output CrossAttentionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  // (1) Z = X_a^T W X_v: Z[i][j] = x_a^i · W x_v^j, [B, L, L].
  auto Z = torch::matmul(torch::matmul(audio, W), visual.transpose(1, 2));
  // (2) A_a = column softmax of Z, A_v = column softmax of Z^T.
  auto A_a = column_softmax(Z, temperature_);
  auto A_v = column_softmax(Z.transpose(1, 2), temperature_);
  // (3) X̂_a = X_a A_a, X̂_v = X_v A_v;  (4), (5) X_att = tanh(X + X̂).
  auto X_att_a = torch::tanh(audio + attend(audio, A_a));
  auto X_att_v = torch::tanh(visual + attend(visual, A_v));
  return {X_att_a, X_att_v, A_a, A_v};
}

CrossAttentionFusionImpl::CrossAttentionFusionImpl(int64_t feature_dim, int64_t n_targets, int n_stages,
                                                   double temperature, int64_t hidden, double dropout) {
  TORCH_CHECK(n_stages >= 1, "cross-attention needs at least one stage");
  for (int s = 1; s <= n_stages; ++s)
    stages.push_back(register_module("stage" + std::to_string(s), CrossAttention(feature_dim, temperature)));
  head = register_module("head", PredictionHead(2 * feature_dim, hidden, n_targets, dropout));
}

FusionOutput CrossAttentionFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  FusionOutput out;
  auto a = audio, v = visual;
  for (size_t s = 0; s < stages.size(); ++s) {
    auto attended = stages[s]->forward(a, v);
    a = attended.audio;
    v = attended.visual;
    std::string stage = "stage" + std::to_string(s + 1);
    out.attention.emplace_back(stage + ".audio", attended.audio_weights);
    out.attention.emplace_back(stage + ".visual", attended.visual_weights);
  }
  // X̂ = [X_att,v; X_att,a]: stacked feature-wise, visual first as in the paper.
  out.prediction = head(torch::cat({v, a}, -1));
  return out;
}

}  // namespace avf
