#include "core/models/fusion_joint_cross_attention.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

namespace avf {

void check_subsequences(const torch::Tensor& x, int64_t n_subsequences, const char* fusion) {
  if (x.dim() != 3 || x.size(1) != n_subsequences)
    throw ConfigError(
        fmt::format("model.fusion {}: built for L = {} sub-sequences (data.sequence-frames / "
                    "data.subsequence-frames at training time), got features of shape {}",
                    fusion, n_subsequences, fmt::join(x.sizes(), "x")));
}

namespace {
torch::Tensor xavier(torch::nn::Module& m, const std::string& name, int64_t rows, int64_t cols) {
  // The authors initialise every weight with xavier_uniform_ (init_weights in their models).
  auto w = m.register_parameter(name, torch::empty({rows, cols}));
  torch::nn::init::xavier_uniform_(w);
  return w;
}
}  // namespace

JointCrossAttentionImpl::JointCrossAttentionImpl(int64_t K, int64_t L, int64_t k) : L_(L) {
  TORCH_CHECK(K > 0 && L > 0 && k > 0, "joint cross-attention needs positive sizes");
  W_ja = xavier(*this, "W_ja", L, L);
  W_jv = xavier(*this, "W_jv", L, L);
  W_a = xavier(*this, "W_a", L, k);
  W_v = xavier(*this, "W_v", L, k);
  W_ca = xavier(*this, "W_ca", 2 * K, k);
  W_cv = xavier(*this, "W_cv", 2 * K, k);
  W_ha = xavier(*this, "W_ha", k, L);
  W_hv = xavier(*this, "W_hv", k, L);
}

JointCrossAttentionImpl::Output JointCrossAttentionImpl::forward(const torch::Tensor& audio,
                                                                 const torch::Tensor& visual) {
  check_subsequences(audio, L_, "joint cross-attention");
  check_subsequences(visual, L_, "joint cross-attention");
  // The paper's K x L matrices; audio/visual hold their transposes.
  const auto X_a = audio.transpose(1, 2), X_v = visual.transpose(1, 2);
  const auto J_T = torch::cat({audio, visual}, -1);  // J^T: [B, L, d], J = [X_a; X_v]
  const double scale = std::sqrt(double(J_T.size(-1)));
  // Joint cross-correlation of each modality with J: [B, K, d].
  const auto C_a = torch::tanh(torch::matmul(torch::matmul(X_a, W_ja), J_T) / scale);
  const auto C_v = torch::tanh(torch::matmul(torch::matmul(X_v, W_jv), J_T) / scale);
  // Attention maps: [B, K, k].
  const auto H_a = torch::relu(torch::matmul(X_a, W_a) + torch::matmul(C_a, W_ca));
  const auto H_v = torch::relu(torch::matmul(X_v, W_v) + torch::matmul(C_v, W_cv));
  // Attended features, residual on the inputs: (H W_h + X)^T as [B, L, K].
  return {torch::matmul(H_a, W_ha).transpose(1, 2) + audio, torch::matmul(H_v, W_hv).transpose(1, 2) + visual, H_a,
          H_v};
}

InputBlstmImpl::InputBlstmImpl(int64_t K) {
  const int64_t units = (K + 1) / 2;
  lstm =
      register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(K, units).batch_first(true).bidirectional(true)));
  project = register_module("project", torch::nn::Linear(K + 2 * units, K));
}

torch::Tensor InputBlstmImpl::forward(const torch::Tensor& x) {
  auto y = std::get<0>(lstm->forward(x));
  return torch::nn::functional::normalize(project(torch::cat({x, y}, -1)),
                                          torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

JointCrossAttentionFusionImpl::JointCrossAttentionFusionImpl(int64_t K, int64_t L, int64_t n_targets, int recursions,
                                                             bool input_lstm, int64_t k, int64_t hidden,
                                                             double dropout) {
  TORCH_CHECK(recursions >= 1, "joint cross-attention needs at least one iteration");
  if (input_lstm) {
    audio_lstm = register_module("audio_lstm", InputBlstm(K));
    visual_lstm = register_module("visual_lstm", InputBlstm(K));
  }
  for (int r = 1; r <= recursions; ++r)
    iterations.push_back(register_module("iter" + std::to_string(r), JointCrossAttention(K, L, k)));
  head = register_module("head", PredictionHead(2 * K, hidden, n_targets, dropout));
}

FusionOutput JointCrossAttentionFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  FusionOutput out;
  auto a = audio_lstm ? audio_lstm(audio) : audio;
  auto v = visual_lstm ? visual_lstm(visual) : visual;
  for (size_t r = 0; r < iterations.size(); ++r) {
    auto attended = iterations[r]->forward(a, v);
    a = attended.audio;
    v = attended.visual;
    const std::string iter = "iter" + std::to_string(r + 1);
    out.attention.emplace_back(iter + ".audio", attended.audio_map);
    out.attention.emplace_back(iter + ".visual", attended.visual_map);
  }
  // X̂ = [X_att,v; X_att,a], visual first as in the cross-attention head.
  out.prediction = head(torch::cat({v, a}, -1));
  return out;
}

}  // namespace avf
