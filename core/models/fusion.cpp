#include "core/models/fusion.h"

#include <torch/torch.h>

#include "core/base/config.h"
#include "core/models/fusion_baselines.h"
#include "core/models/fusion_cross_attention.h"

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

Fusion make_fusion(const ModelConfig& m, int64_t feature_dim, int64_t n_targets) {
  if (m.fusion == "cross-attention" || m.fusion == "cross-attention-2stage") {
    int stages = m.fusion == "cross-attention" ? 1 : 2;
    return as_fusion(CrossAttentionFusion(feature_dim, n_targets, stages, m.temperature, m.hidden, m.dropout));
  }
  if (m.fusion == "concat") return as_fusion(ConcatFusion(feature_dim, n_targets, m.hidden, m.dropout));
  if (m.fusion == "self-attention")
    return as_fusion(SelfAttentionFusion(feature_dim, n_targets, m.temperature, m.hidden, m.dropout));
  if (m.fusion == "lstm") return as_fusion(LstmFusion(feature_dim, n_targets, m.hidden, m.dropout));
  throw ConfigError("model.fusion: unknown fusion '" + m.fusion +
                    "' (cross-attention, cross-attention-2stage, concat, self-attention, lstm)");
}

}  // namespace avf
