// Gated recursive joint cross-attention (GRJCA; Praveen, Alam and Charton, arXiv:2503.12261), built on
// the dynamic cross-attention gate (DCA; Praveen and Alam, arXiv:2403.19554).
//
// Contract: as JointCrossAttentionFusion (features [B, L, K], built for one L). Attention maps:
// "iter<r>.audio" / "iter<r>.visual" = H_a, H_v of iteration r ([B, K, k]); "iter<r>.audio-gate" /
// "iter<r>.visual-gate" = that iteration's gate [B, L, 2] (column 0 = unattended, 1 = attended);
// "gate.audio" / "gate.visual" = the gate over iterations [B, L, R].
#pragma once
#include "core/models/fusion.h"
#include "core/models/fusion_joint_cross_attention.h"

namespace avf {

// For r = 1..R, with X^(0) the inputs (through InputBlstm when input_lstm), per modality m ∈ {a, v}
// and per sub-sequence:
//   X_att^(r) = JCA_r(X^(r-1))                                   (own weights per iteration)
//   g^(r)     = softmax((X_att^(r) w_g^(r) + b_g^(r)) / T)        2 weights: unattended, attended
//   X^(r)     = ReLU(g^(r)_0 X^(r-1) + g^(r)_1 X_att^(r))          (the DCA gate, per iteration)
//   G         = softmax(([X^(1); ...; X^(R)] W_G + b_G) / T)       R weights, one per iteration
//   X̃         = Σ_r G_r X^(r)
// then [X̃_v; X̃_a] → PredictionHead. T is model.gate-temperature. From the DCA code (the GRJCA
// code is not public): the gate is a linear layer on the attended features, a softmax with
// temperature 0.1, and a ReLU after mixing. The GRJCA paper leaves open which "input features"
// an iteration's gate weighs; here it is that iteration's input, so with every gate on "attended"
// the model is RJCA. The final ReLU of DCA is dropped after the gate over iterations: its input is
// a convex combination of ReLU outputs, so it would do nothing.
class GatedJointCrossAttentionFusionImpl : public FusionImpl {
 public:
  GatedJointCrossAttentionFusionImpl(int64_t feature_dim, int64_t n_subsequences, int64_t n_targets, int recursions,
                                     bool input_lstm, int64_t attention_dim, double gate_temperature, int64_t hidden,
                                     double dropout);
  FusionOutput forward(const torch::Tensor& audio, const torch::Tensor& visual) override;

  InputBlstm audio_lstm{nullptr}, visual_lstm{nullptr};  // null unless input_lstm
  std::vector<JointCrossAttention> iterations;
  std::vector<torch::nn::Linear> audio_gates, visual_gates;                 // K -> 2, one per iteration
  torch::nn::Linear audio_final_gate{nullptr}, visual_final_gate{nullptr};  // R*K -> R
  PredictionHead head{nullptr};

 private:
  double temperature_;
};
TORCH_MODULE(GatedJointCrossAttentionFusion);

}  // namespace avf
