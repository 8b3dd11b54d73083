#include "core/models/fusion_baselines.h"

#include <torch/torch.h>

#include "core/models/fusion_cross_attention.h"

namespace avf {

namespace {
torch::Tensor concat(const torch::Tensor& audio, const torch::Tensor& visual) {
  return torch::cat({visual, audio}, -1);
}
}  // namespace

ConcatFusionImpl::ConcatFusionImpl(int64_t feature_dim, int64_t n_targets, int64_t hidden, double dropout) {
  head = register_module("head", PredictionHead(2 * feature_dim, hidden, n_targets, dropout));
}

FusionOutput ConcatFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  return {head(concat(audio, visual)), {}};
}

SelfAttentionFusionImpl::SelfAttentionFusionImpl(int64_t feature_dim, int64_t n_targets, double temperature,
                                                 int64_t hidden, double dropout)
    : temperature_(temperature) {
  W = register_parameter("W", torch::empty({2 * feature_dim, 2 * feature_dim}));
  torch::nn::init::xavier_normal_(W);
  head = register_module("head", PredictionHead(2 * feature_dim, hidden, n_targets, dropout));
}

FusionOutput SelfAttentionFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  auto X = concat(audio, visual);
  auto A = column_softmax(torch::matmul(torch::matmul(X, W), X.transpose(1, 2)), temperature_);
  return {head(torch::tanh(X + attend(X, A))), {{"self", A}}};
}

LstmFusionImpl::LstmFusionImpl(int64_t feature_dim, int64_t n_targets, int64_t hidden, double dropout) {
  lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(2 * feature_dim, hidden).batch_first(true)));
  head = register_module("head", PredictionHead(hidden, hidden, n_targets, dropout));
}

FusionOutput LstmFusionImpl::forward(const torch::Tensor& audio, const torch::Tensor& visual) {
  return {head(std::get<0>(lstm->forward(concat(audio, visual)))), {}};
}

}  // namespace avf
