// Visual network: Inception-v1 inflated to 3D (I3D, Carreira & Zisserman 2017), layer for layer as
// published, with every channel count multiplied by a width factor so tests can run tiny versions.
#pragma once
#include <torch/nn.h>

#include <array>

#include "core/models/batch_norm.h"
#include "core/models/model_output.h"

namespace avf {

using Size3 = std::array<int64_t, 3>;  // (time, height, width)

// TensorFlow "SAME" padding of a [B, C, T, H, W] tensor: output size ceil(in / stride) in every
// dimension, the odd padding element going to the end. Computed from the actual input, so any clip
// size works; `value` fills the border (0 before a convolution, −∞ before a max pool).
torch::Tensor pad_same(const torch::Tensor& x, Size3 kernel, Size3 stride, double value);

// Conv3d (no bias) → BatchNorm (eps 1e-3, as published) → ReLU, with SAME padding.
class Unit3DImpl : public torch::nn::Module {
 public:
  Unit3DImpl(int64_t in, int64_t out, Size3 kernel, Size3 stride = {1, 1, 1});
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv3d conv{nullptr};
  BatchNorm bn{nullptr};  // global over ranks while training under GlobalBatchStatistics

 private:
  Size3 kernel_, stride_;
};
TORCH_MODULE(Unit3D);

// Inception module: 1x1x1 | 1x1x1 → 3x3x3 | 1x1x1 → 3x3x3 | max pool 3x3x3 → 1x1x1, concatenated.
class InceptionImpl : public torch::nn::Module {
 public:
  // out = channels of {b0, b1a, b1b, b2a, b2b, b3b}; names follow the published checkpoints.
  InceptionImpl(int64_t in, std::array<int64_t, 6> out);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t out_channels() const { return out_channels_; }

  Unit3D b0{nullptr}, b1a{nullptr}, b1b{nullptr}, b2a{nullptr}, b2b{nullptr}, b3b{nullptr};

 private:
  int64_t out_channels_;
};
TORCH_MODULE(Inception);

class I3DImpl : public torch::nn::Module {
 public:
  // width multiplies every channel count (1.0 = the published network, 1024-d feature).
  I3DImpl(int64_t n_targets, double width = 1.0, double dropout = 0.8);
  // clip [B, 3, T, H, W] (any T >= 1, H, W >= 16) → feature [B, feature_dim()], prediction [B, n_targets].
  ModelOutput forward(const torch::Tensor& clip);
  // Conv3d_1a_7x7 … Mixed_5c: the [B, feature_dim(), T', H', W'] map before pooling (T' = ceil(T/8),
  // H' = ceil(H/32), W' = ceil(W/32)).
  torch::Tensor trunk(const torch::Tensor& clip);
  // Channels of Mixed_5c: 1024 at width 1.
  int64_t feature_dim() const { return feature_dim_; }

  // The trunk in published order (Conv3d_1a_7x7 … Mixed_5c); max pools are stateless and live in forward.
  Unit3D Conv3d_1a_7x7{nullptr}, Conv3d_2b_1x1{nullptr}, Conv3d_2c_3x3{nullptr};
  Inception Mixed_3b{nullptr}, Mixed_3c{nullptr}, Mixed_4b{nullptr}, Mixed_4c{nullptr}, Mixed_4d{nullptr},
      Mixed_4e{nullptr}, Mixed_4f{nullptr}, Mixed_5b{nullptr}, Mixed_5c{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear logits{nullptr};

 private:
  int64_t feature_dim_;
};
TORCH_MODULE(I3D);

}  // namespace avf
