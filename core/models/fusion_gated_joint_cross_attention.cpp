#include "core/models/fusion_gated_joint_cross_attention.h"

#include <torch/torch.h>

namespace avf {

namespace {
// Xavier-uniform weight and zero bias, the authors' init_weights for linear layers.
torch::nn::Linear gate_layer(int64_t in, int64_t out) {
  torch::nn::Linear fc(in, out);
  torch::nn::init::xavier_uniform_(fc->weight);
  torch::nn::init::zeros_(fc->bias);
  return fc;
}

// Σ_i w[..., i] x_i for weights [B, L, n] and n tensors [B, L, K].
torch::Tensor mix(const torch::Tensor& w, const std::vector<torch::Tensor>& xs) {
  auto sum = w.select(-1, 0).unsqueeze(-1) * xs[0];
  for (size_t i = 1; i < xs.size(); ++i) sum = sum + w.select(-1, int64_t(i)).unsqueeze(-1) * xs[i];
  return sum;
}
}  // namespace

GatedJointCrossAttentionFusionImpl::GatedJointCrossAttentionFusionImpl(int64_t K, int64_t L, int64_t n_targets,
                                                                       int recursions, bool input_lstm, int64_t k,
                                                                       double gate_temperature, int64_t hidden,
                                                                       double dropout)
    : temperature_(gate_temperature) {
  TORCH_CHECK(recursions >= 1, "gated joint cross-attention needs at least one iteration");
  TORCH_CHECK(gate_temperature > 0, "the gate temperature must be positive");
  if (input_lstm) {
    audio_lstm = register_module("audio_lstm", InputBlstm(K));
    visual_lstm = register_module("visual_lstm", InputBlstm(K));
  }
  for (int r = 1; r <= recursions; ++r) {
    const std::string iter = "iter" + std::to_string(r);
    iterations.push_back(register_module(iter, JointCrossAttention(K, L, k)));
    audio_gates.push_back(register_module(iter + "_audio_gate", gate_layer(K, 2)));
    visual_gates.push_back(register_module(iter + "_visual_gate", gate_layer(K, 2)));
  }
  audio_final_gate = register_module("audio_final_gate", gate_layer(recursions * K, recursions));
  visual_final_gate = register_module("visual_final_gate", gate_layer(recursions * K, recursions));
  head = register_module("head", PredictionHead(2 * K, hidden, n_targets, dropout));
}

FusionOutput GatedJointCrossAttentionFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  FusionOutput out;
  auto a = audio_lstm ? audio_lstm(audio) : audio;
  auto v = visual_lstm ? visual_lstm(visual) : visual;
  std::vector<torch::Tensor> gated_a, gated_v;
  for (size_t r = 0; r < iterations.size(); ++r) {
    auto attended = iterations[r]->forward(a, v);
    // The iteration's gate: how much of its input (unattended) and of its output (attended) to keep.
    const auto g_a = torch::softmax(audio_gates[r](attended.audio) / temperature_, -1);
    const auto g_v = torch::softmax(visual_gates[r](attended.visual) / temperature_, -1);
    a = torch::relu(mix(g_a, {a, attended.audio}));
    v = torch::relu(mix(g_v, {v, attended.visual}));
    gated_a.push_back(a);
    gated_v.push_back(v);
    const std::string iter = "iter" + std::to_string(r + 1);
    out.attention.emplace_back(iter + ".audio", attended.audio_map);
    out.attention.emplace_back(iter + ".visual", attended.visual_map);
    out.attention.emplace_back(iter + ".audio-gate", g_a);
    out.attention.emplace_back(iter + ".visual-gate", g_v);
  }
  // The gate over iterations, computed from all of them side by side.
  const auto G_a = torch::softmax(audio_final_gate(torch::cat(gated_a, -1)) / temperature_, -1);
  const auto G_v = torch::softmax(visual_final_gate(torch::cat(gated_v, -1)) / temperature_, -1);
  out.attention.emplace_back("gate.audio", G_a);
  out.attention.emplace_back("gate.visual", G_v);
  out.prediction = head(torch::cat({mix(G_v, gated_v), mix(G_a, gated_a)}, -1));
  return out;
}

}  // namespace avf
