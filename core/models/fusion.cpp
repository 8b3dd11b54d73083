#include "core/models/fusion.h"

#include <torch/torch.h>

#include "core/base/config.h"
#include "core/models/fusion_baselines.h"
#include "core/models/fusion_cross_attention.h"
#include "core/models/fusion_gated_joint_cross_attention.h"
#include "core/models/fusion_joint_cross_attention.h"
#include "core/models/fusion_transformer.h"

namespace avf {

PredictionHeadImpl::PredictionHeadImpl(int64_t in, int64_t hidden, int64_t n_targets, double dropout_p) {
  dropout = register_module("dropout", torch::nn::Dropout(dropout_p));
  fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, n_targets));
}

torch::Tensor PredictionHeadImpl::forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(dropout(x)))); }

namespace {
// Fusion's holder takes a shared_ptr to the base; handing it a derived pointer would pick the
// holder's forwarding constructor instead.
template <class Holder>
Fusion as_fusion(Holder holder) {
  return Fusion(std::shared_ptr<FusionImpl>(holder.ptr()));
}
}  // namespace

Fusion make_fusion(const ModelConfig& m, int64_t feature_dim, int64_t n_targets, int64_t n_subsequences) {
  if (m.fusion == "cross-attention" || m.fusion == "cross-attention-2stage") {
    int stages = m.fusion == "cross-attention" ? 1 : 2;
    return as_fusion(CrossAttentionFusion(feature_dim, n_targets, stages, m.temperature, m.hidden, m.dropout));
  }
  if (m.fusion == "concat") return as_fusion(ConcatFusion(feature_dim, n_targets, m.hidden, m.dropout));
  if (m.fusion == "self-attention")
    return as_fusion(SelfAttentionFusion(feature_dim, n_targets, m.temperature, m.hidden, m.dropout));
  if (m.fusion == "lstm") return as_fusion(LstmFusion(feature_dim, n_targets, m.hidden, m.dropout));
  if (m.fusion == "transformer")
    return as_fusion(TransformerFusion(feature_dim, n_targets, m.heads, m.hidden, m.dropout));
  const bool joint = m.fusion == "joint-cross-attention" || m.fusion == "recursive-joint-cross-attention";
  if (joint || m.fusion == "gated-recursive-joint-cross-attention") {
    // Their weights act on the time axis, so they are built for one L.
    if (n_subsequences <= 0)
      throw ConfigError("model.fusion " + m.fusion +
                        ": needs the number of sub-sequences L (data.sequence-frames / "
                        "data.subsequence-frames)");
    if (m.fusion == "joint-cross-attention")
      return as_fusion(JointCrossAttentionFusion(feature_dim, n_subsequences, n_targets, 1, false, m.attention_dim,
                                                 m.hidden, m.dropout));
    if (joint)
      return as_fusion(JointCrossAttentionFusion(feature_dim, n_subsequences, n_targets, m.recursions, m.input_lstm,
                                                 m.attention_dim, m.hidden, m.dropout));
    return as_fusion(GatedJointCrossAttentionFusion(feature_dim, n_subsequences, n_targets, m.recursions, m.input_lstm,
                                                    m.attention_dim, m.gate_temperature, m.hidden, m.dropout));
  }
  throw ConfigError("model.fusion: unknown fusion '" + m.fusion +
                    "' (cross-attention, cross-attention-2stage, concat, self-attention, lstm, joint-cross-attention, "
                    "recursive-joint-cross-attention, gated-recursive-joint-cross-attention, transformer)");
}

}  // namespace avf
