#include "core/models/audio_net.h"

#include <torch/torch.h>

#include "core/models/batch_norm.h"

namespace avf {

namespace nn = torch::nn;

namespace {
struct ConvSpec {
  int64_t out, kernel;
  std::vector<int64_t> stride;
  int64_t padding;
};

// One block of Table I: every convolution followed by BatchNorm and ReLU (conv1, bn1, relu1, conv2, …),
// then the pool. No conv bias: BatchNorm's shift replaces it.
nn::Sequential block(int64_t in, const std::vector<ConvSpec>& convs, nn::AnyModule pool) {
  nn::Sequential seq;
  for (size_t i = 0; i < convs.size(); ++i) {
    const auto& c = convs[i];
    auto n = std::to_string(i + 1);
    seq->push_back("conv" + n,
                   nn::Conv2d(nn::Conv2dOptions(in, c.out, c.kernel).stride(c.stride).padding(c.padding).bias(false)));
    seq->push_back("bn" + n, BatchNorm(c.out));
    seq->push_back("relu" + n, nn::ReLU());
    in = c.out;
  }
  seq->push_back("pool", std::move(pool));
  return seq;
}
}  // namespace

// Table I gives kernels, strides and output sizes but no paddings. These are the choices that reach
// every listed size exactly from 1 x 128 x 129 (height = time frames, width = frequency bins):
//   Block 1: conv 5x5 /(1,2), padding 0    → 124 x 63;  max pool 4x4 /4 → 64 x 31 x 15
//   Block 2: conv 5x5 /(1,2), padding 2    →  31 x 8;   conv 3x3, padding 1 → 31 x 8;
//            max pool 2x2 /2                → 256 x 15 x 4
//   Block 3: conv 5x5, padding 1           →  13 x 2;   conv 3x3, padding 1 → 13 x 2;
//            avg pool 13x2 /1               → 1024 x 1 x 1
// Block 3 cannot keep its input size (15 x 4) and still meet the 13 x 2 pool; padding 1 on both
// convolutions is the one uniform choice that does.
AudioNetImpl::AudioNetImpl(int64_t n_targets, int64_t width_div, double dropout_p) {
  TORCH_CHECK(width_div >= 1, "audio width divisor must be >= 1");
  auto c = [&](int64_t channels) { return std::max<int64_t>(1, channels / width_div); };
  feature_dim_ = c(1024);
  block1 = register_module(
      "block1", block(1, {{c(64), 5, {1, 2}, 0}}, nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(4).stride(4)))));
  block2 = register_module("block2", block(c(64), {{c(128), 5, {1, 2}, 2}, {c(256), 3, {1, 1}, 1}},
                                           nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)))));
  block3 = register_module("block3", block(c(256), {{c(512), 5, {1, 1}, 1}, {c(1024), 3, {1, 1}, 1}},
                                           nn::AnyModule(nn::AvgPool2d(nn::AvgPool2dOptions({13, 2}).stride(1)))));
  fc4 = register_module("fc4", nn::Linear(feature_dim_, c(256)));
  fc5 = register_module("fc5", nn::Linear(c(256), n_targets));
  dropout = register_module("dropout", nn::Dropout(dropout_p));
  // "Initialized with values from normal distribution": He-scaled normals keep activation variance
  // through the ReLU stack, so the network trains from scratch as the paper does.
  for (auto& m : modules(false)) {
    if (auto* conv = m->as<nn::Conv2d>()) nn::init::kaiming_normal_(conv->weight, 0, torch::kFanIn, torch::kReLU);
    if (auto* fc = m->as<nn::Linear>()) {
      nn::init::kaiming_normal_(fc->weight, 0, torch::kFanIn, torch::kReLU);
      nn::init::zeros_(fc->bias);
    }
  }
}

ModelOutput AudioNetImpl::forward(const torch::Tensor& spectrogram) {
  auto feature = block3->forward(block2->forward(block1->forward(spectrogram))).flatten(1);
  // Table I: sigmoid after the Block 4 linear layer. Section IV-B says "dropout after the last linear
  // layer"; dropping out the regression output itself would zero predictions, so, as in the authors'
  // code, the dropout acts on the input of the last linear layer.
  auto prediction = fc5(dropout(torch::sigmoid(fc4(feature))));
  return {feature, prediction};
}

}  // namespace avf
