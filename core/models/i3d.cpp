#include "core/models/i3d.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace avf {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

torch::Tensor pad_same(const torch::Tensor& x, Size3 kernel, Size3 stride, double value) {
  // F::pad takes (begin, end) pairs starting from the last dimension.
  std::vector<int64_t> pad(6);
  bool any = false;
  for (int d = 0; d < 3; ++d) {
    int64_t in = x.size(2 + d), out = (in + stride[d] - 1) / stride[d];
    int64_t total = std::max<int64_t>((out - 1) * stride[d] + kernel[d] - in, 0);
    pad[2 * (2 - d)] = total / 2;
    pad[2 * (2 - d) + 1] = total - total / 2;
    any = any || total > 0;
  }
  return any ? F::pad(x, F::PadFuncOptions(pad).value(value)) : x;
}

namespace {
torch::Tensor max_pool_same(const torch::Tensor& x, Size3 kernel, Size3 stride) {
  // −∞ padding makes the border invisible to the max, as TensorFlow's SAME pooling does.
  return F::max_pool3d(pad_same(x, kernel, stride, -std::numeric_limits<double>::infinity()),
                       F::MaxPool3dFuncOptions(kernel).stride(stride));
}
}  // namespace

Unit3DImpl::Unit3DImpl(int64_t in, int64_t out, Size3 kernel, Size3 stride) : kernel_(kernel), stride_(stride) {
  conv = register_module("conv", nn::Conv3d(nn::Conv3dOptions(in, out, kernel).stride(stride).bias(false)));
  bn = register_module("bn", BatchNorm(nn::BatchNormOptions(out).eps(1e-3)));
}

torch::Tensor Unit3DImpl::forward(const torch::Tensor& x) {
  return torch::relu(bn(conv(pad_same(x, kernel_, stride_, 0.0))));
}

InceptionImpl::InceptionImpl(int64_t in, std::array<int64_t, 6> out) {
  b0 = register_module("b0", Unit3D(in, out[0], Size3{1, 1, 1}));
  b1a = register_module("b1a", Unit3D(in, out[1], Size3{1, 1, 1}));
  b1b = register_module("b1b", Unit3D(out[1], out[2], Size3{3, 3, 3}));
  b2a = register_module("b2a", Unit3D(in, out[3], Size3{1, 1, 1}));
  b2b = register_module("b2b", Unit3D(out[3], out[4], Size3{3, 3, 3}));
  b3b = register_module("b3b", Unit3D(in, out[5], Size3{1, 1, 1}));
  out_channels_ = out[0] + out[2] + out[4] + out[5];
}

torch::Tensor InceptionImpl::forward(const torch::Tensor& x) {
  return torch::cat({b0(x), b1b(b1a(x)), b2b(b2a(x)), b3b(max_pool_same(x, {3, 3, 3}, {1, 1, 1}))}, 1);
}

I3DImpl::I3DImpl(int64_t n_targets, double width, double dropout_p) {
  TORCH_CHECK(width > 0, "I3D width must be positive");
  auto c = [&](int64_t channels) { return std::max<int64_t>(1, std::llround(channels * width)); };
  auto mixed = [&](const char* name, int64_t in, std::array<int64_t, 6> out) {
    for (auto& o : out) o = c(o);
    return register_module(name, Inception(in, out));
  };
  // Channel counts of the published Inception-v1 / I3D.
  Conv3d_1a_7x7 = register_module("Conv3d_1a_7x7", Unit3D(3, c(64), Size3{7, 7, 7}, Size3{2, 2, 2}));
  Conv3d_2b_1x1 = register_module("Conv3d_2b_1x1", Unit3D(c(64), c(64), Size3{1, 1, 1}));
  Conv3d_2c_3x3 = register_module("Conv3d_2c_3x3", Unit3D(c(64), c(192), Size3{3, 3, 3}));
  Mixed_3b = mixed("Mixed_3b", c(192), {64, 96, 128, 16, 32, 32});
  Mixed_3c = mixed("Mixed_3c", Mixed_3b->out_channels(), {128, 128, 192, 32, 96, 64});
  Mixed_4b = mixed("Mixed_4b", Mixed_3c->out_channels(), {192, 96, 208, 16, 48, 64});
  Mixed_4c = mixed("Mixed_4c", Mixed_4b->out_channels(), {160, 112, 224, 24, 64, 64});
  Mixed_4d = mixed("Mixed_4d", Mixed_4c->out_channels(), {128, 128, 256, 24, 64, 64});
  Mixed_4e = mixed("Mixed_4e", Mixed_4d->out_channels(), {112, 144, 288, 32, 64, 64});
  Mixed_4f = mixed("Mixed_4f", Mixed_4e->out_channels(), {256, 160, 320, 32, 128, 128});
  Mixed_5b = mixed("Mixed_5b", Mixed_4f->out_channels(), {256, 160, 320, 32, 128, 128});
  Mixed_5c = mixed("Mixed_5c", Mixed_5b->out_channels(), {384, 192, 384, 48, 128, 128});
  feature_dim_ = Mixed_5c->out_channels();
  dropout = register_module("dropout", nn::Dropout(dropout_p));
  logits = register_module("logits", nn::Linear(feature_dim_, n_targets));
}

torch::Tensor I3DImpl::trunk(const torch::Tensor& clip) {
  auto x = Conv3d_1a_7x7(clip);
  x = max_pool_same(x, {1, 3, 3}, {1, 2, 2});  // MaxPool3d_2a_3x3
  x = Conv3d_2c_3x3(Conv3d_2b_1x1(x));
  x = max_pool_same(x, {1, 3, 3}, {1, 2, 2});  // MaxPool3d_3a_3x3
  x = Mixed_3c(Mixed_3b(x));
  x = max_pool_same(x, {3, 3, 3}, {2, 2, 2});  // MaxPool3d_4a_3x3
  x = Mixed_4f(Mixed_4e(Mixed_4d(Mixed_4c(Mixed_4b(x)))));
  x = max_pool_same(x, {2, 2, 2}, {2, 2, 2});  // MaxPool3d_5a_2x2
  return Mixed_5c(Mixed_5b(x));
}

ModelOutput I3DImpl::forward(const torch::Tensor& clip) {
  // Published: average pool (2, 7, 7) stride 1, then the 1x1x1 logits conv averaged over time. For a
  // 16 x 224 x 224 clip the map here is 2 x 7 x 7, so that is exactly a global mean followed by a
  // linear layer; the global mean keeps it defined for any clip size.
  auto feature = trunk(clip).mean({2, 3, 4});
  return {feature, logits(dropout(feature))};
}

}  // namespace avf
