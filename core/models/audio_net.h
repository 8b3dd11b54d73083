// The audio network of Table I: a 2D CNN on a 1 x 128 x 129 log-spectrogram window.
#pragma once
#include <torch/nn.h>

#include "core/models/model_output.h"

namespace avf {

class AudioNetImpl : public torch::nn::Module {
 public:
  // width_div divides every channel count and the 256-unit linear layer (1 = the paper's network).
  AudioNetImpl(int64_t n_targets, int64_t width_div = 1, double dropout = 0.5);
  // spectrogram [B, 1, 128, 129] → feature [B, 1024 / width_div], prediction [B, n_targets].
  ModelOutput forward(const torch::Tensor& spectrogram);
  int64_t feature_dim() const { return feature_dim_; }

  torch::nn::Sequential block1{nullptr}, block2{nullptr}, block3{nullptr};
  torch::nn::Linear fc4{nullptr}, fc5{nullptr};
  torch::nn::Dropout dropout{nullptr};

 private:
  int64_t feature_dim_;
};
TORCH_MODULE(AudioNet);

}  // namespace avf
