// Joint cross-attention (JCA; Praveen et al., CVPRW 2022, arXiv:2203.14779) and its recursive form
// (RJCA; Praveen et al., ICASSP 2023, arXiv:2304.07958).
//
// Contract: features arrive as [B, L, K] (X^T per sequence, as everywhere in core/models); the
// paper's X_a, X_v are K x L and J = [X_a; X_v] is 2K x L. The learned matrices W_ja, W_a, W_ha act
// on the time axis, so a head is built for one L (data.sequence-frames / data.subsequence-frames)
// and a forward with another L throws. Attention maps are the paper's H_a, H_v: [B, K, k]
// (feature x model.attention-dim), named "iter<r>.audio" / "iter<r>.visual".
#pragma once
#include "core/models/fusion.h"

namespace avf {

// One JCA iteration. With d = 2K:
//   C_a = tanh(X_a W_ja J^T / sqrt(d))        K x d   (joint cross-correlation, W_ja: L x L)
//   H_a = ReLU(X_a W_a + C_a W_ca)            K x k   (attention maps, W_a: L x k, W_ca: d x k)
//   X_att,a = H_a W_ha + X_a                  K x L   (W_ha: k x L)
// and the same for v. The papers print these with the transposes placed loosely; the orientation
// here (correlation between feature dimensions, W_ja over time) is the authors' code
// (JointCrossAttentional-AV-Fusion models/cam.py: affine_a = Linear(L, L) on J^T, then
// X_a (.) J^T), which is what decides. No biases, as there.
class JointCrossAttentionImpl : public torch::nn::Module {
 public:
  JointCrossAttentionImpl(int64_t feature_dim, int64_t n_subsequences, int64_t attention_dim);
  struct Output {
    torch::Tensor audio, visual;          // X_att,a and X_att,v as [B, L, K]
    torch::Tensor audio_map, visual_map;  // H_a, H_v as [B, K, k]
  };
  Output forward(const torch::Tensor& audio, const torch::Tensor& visual);

  torch::Tensor W_ja, W_jv, W_a, W_v, W_ca, W_cv, W_ha, W_hv;

 private:
  int64_t L_;
};
TORCH_MODULE(JointCrossAttention);

// The recursive model's optional input BLSTM (model.input-lstm), as in the authors' layer.py: a
// bidirectional LSTM over the L sub-sequences (ceil(K/2) units each way), its output concatenated
// with its input ("residual embeddings"), a linear layer back to K, then L2 normalisation over the
// features. Differs from the authors' code in two ways: one layer, and a zero initial state (theirs
// is learned).
class InputBlstmImpl : public torch::nn::Module {
 public:
  explicit InputBlstmImpl(int64_t feature_dim);
  torch::Tensor forward(const torch::Tensor& x);  // [B, L, K] -> [B, L, K]

  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear project{nullptr};
};
TORCH_MODULE(InputBlstm);

// `recursions` JCA iterations, each with its own weights (the authors' DCNLayer holds one
// sub-layer per iteration), the attended features of one iteration feeding the next:
//   X^(r) = JCA_r(X^(r-1)),  X^(0) = the inputs (through InputBlstm when input_lstm),
// then X̂ = [X_att,v; X_att,a] → PredictionHead. recursions = 1 without LSTMs is JCA.
class JointCrossAttentionFusionImpl : public FusionImpl {
 public:
  JointCrossAttentionFusionImpl(int64_t feature_dim, int64_t n_subsequences, int64_t n_targets, int recursions,
                                bool input_lstm, int64_t attention_dim, int64_t hidden, double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  InputBlstm audio_lstm{nullptr}, visual_lstm{nullptr};  // null unless input_lstm
  std::vector<JointCrossAttention> iterations;
  PredictionHead head{nullptr};
};
TORCH_MODULE(JointCrossAttentionFusion);

// Throws when the inputs' L is not the one the head was built for (the W's are L-sized).
void check_subsequences(const torch::Tensor& x, int64_t n_subsequences, const char* fusion);

}  // namespace avf
