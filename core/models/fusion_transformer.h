// The transformer self-attention baseline the paper compares against (its ref. [8], Tzirakis et al.,
// "End-to-end multimodal affect recognition in real-world environments", Information Fusion 2021):
// the audio and visual sub-sequence features as 2L tokens of one sequence, one transformer encoder
// layer (Vaswani et al.) over them, then per sub-sequence [Z_v; Z_a] → PredictionHead.
//
// Contract: features [B, L, K], any L; K divisible by model.heads. Attention map "layer1": the
// attention weights averaged over heads, [B, 2L, 2L], rows = queries, tokens 0..L-1 audio and
// L..2L-1 visual; each row sums to 1.
//
// Not the same as the `self-attention` head (fusion_baselines.h), which is the paper's correlation
// mechanism (Z = X^T W X, column softmax, tanh residual) applied to the concatenated features.
#pragma once
#include "core/models/fusion.h"

namespace avf {

// Multi-head scaled dot-product self-attention: for each head h with d_h = K / heads,
//   A_h = softmax_row(Q_h K_h^T / sqrt(d_h)),  Q = T W_q + b_q, K = T W_k + b_k, V = T W_v + b_v,
//   MHA(T) = [A_1 V_1, ..., A_H V_H] W_o + b_o.
class MultiHeadSelfAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadSelfAttentionImpl(int64_t dim, int64_t heads);
  // tokens [B, N, K] -> {output [B, N, K], weights averaged over heads [B, N, N]}
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& tokens);

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, output{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(MultiHeadSelfAttention);

// T = [X_a^T + e_a; X_v^T + e_v] (2L tokens; e_a, e_v learned modality embeddings, so a token's
// modality is visible to attention), then post-norm as in Vaswani et al.:
//   Y = LayerNorm(T + MHA(T)),  Z = LayerNorm(Y + W_2 ReLU(W_1 Y + b_1) + b_2)   (W_1: K -> 4K)
// No positional encoding: like the correlation heads, attention here is by content, and each
// output keeps its token's slot.
class TransformerFusionImpl : public FusionImpl {
 public:
  TransformerFusionImpl(int64_t feature_dim, int64_t n_targets, int64_t heads, int64_t hidden, double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  torch::Tensor modality;  // [2, K]: e_a, e_v
  MultiHeadSelfAttention attention{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear ff1{nullptr}, ff2{nullptr};
  PredictionHead head{nullptr};
};
TORCH_MODULE(TransformerFusion);

}  // namespace avf
