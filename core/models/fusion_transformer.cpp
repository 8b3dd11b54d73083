#include "core/models/fusion_transformer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

namespace avf {

MultiHeadSelfAttentionImpl::MultiHeadSelfAttentionImpl(int64_t dim, int64_t heads) : heads_(heads) {
  if (heads < 1 || dim % heads != 0)
    throw ConfigError(fmt::format(
        "model.heads: {} heads do not divide the feature size K = {} (expected a divisor of K)", heads, dim));
  query = register_module("query", torch::nn::Linear(dim, dim));
  key = register_module("key", torch::nn::Linear(dim, dim));
  value = register_module("value", torch::nn::Linear(dim, dim));
  output = register_module("output", torch::nn::Linear(dim, dim));
}

std::pair<torch::Tensor, torch::Tensor> MultiHeadSelfAttentionImpl::forward(const torch::Tensor& tokens) {
  const int64_t B = tokens.size(0), N = tokens.size(1), d_h = tokens.size(2) / heads_;
  // [B, N, K] -> [B, H, N, d_h]
  auto split = [&](const torch::Tensor& x) { return x.view({B, N, heads_, d_h}).transpose(1, 2); };
  const auto Q = split(query(tokens)), K = split(key(tokens)), V = split(value(tokens));
  // Row softmax: every query's weights over the N keys sum to 1.
  const auto A = torch::softmax(torch::matmul(Q, K.transpose(2, 3)) / std::sqrt(double(d_h)), -1);
  const auto heads = torch::matmul(A, V).transpose(1, 2).reshape({B, N, heads_ * d_h});
  return {output(heads), A.mean(1)};
}

TransformerFusionImpl::TransformerFusionImpl(int64_t K, int64_t n_targets, int64_t heads, int64_t hidden,
                                             double dropout) {
  modality = register_parameter("modality", torch::empty({2, K}));
  torch::nn::init::normal_(modality, 0.0, 0.02);
  attention = register_module("attention", MultiHeadSelfAttention(K, heads));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({K})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({K})));
  ff1 = register_module("ff1", torch::nn::Linear(K, 4 * K));
  ff2 = register_module("ff2", torch::nn::Linear(4 * K, K));
  head = register_module("head", PredictionHead(2 * K, hidden, n_targets, dropout));
}

FusionOutput TransformerFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  const int64_t L = audio.size(1);
  const auto T = torch::cat({audio + modality[0], visual + modality[1]}, 1);  // [B, 2L, K]
  auto [attended, weights] = attention(T);
  const auto Y = norm1(T + attended);
  const auto Z = norm2(Y + ff2(torch::relu(ff1(Y))));
  // Per sub-sequence l: [Z_v^l; Z_a^l], visual first as in the other heads.
  auto prediction = head(torch::cat({Z.slice(1, L, 2 * L), Z.slice(1, 0, L)}, -1));
  return {prediction, {{"layer1", weights}}};
}

}  // namespace avf
