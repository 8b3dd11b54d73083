// Shapes of the audio network (Table I) and of I3D at small and full sizes, and their defining details.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/models/audio_net.h"
#include "core/models/autocast.h"
#include "core/models/i3d.h"

namespace avf {
namespace {

using Shape = std::vector<int64_t>;

TEST(AudioNet, ReachesEveryShapeOfTableOne) {
  torch::NoGradGuard no_grad;
  AudioNet net(1);
  net->eval();
  auto x = torch::randn({1, 1, 128, 129});
  auto b1 = net->block1->forward(x);
  EXPECT_EQ(b1.sizes().vec(), (Shape{1, 64, 31, 15}));
  auto b2 = net->block2->forward(b1);
  EXPECT_EQ(b2.sizes().vec(), (Shape{1, 256, 15, 4}));
  auto b3 = net->block3->forward(b2);
  EXPECT_EQ(b3.sizes().vec(), (Shape{1, 1024, 1, 1}));
  auto out = net->forward(x);
  EXPECT_EQ(out.feature.sizes().vec(), (Shape{1, 1024}));
  EXPECT_EQ(out.prediction.sizes().vec(), (Shape{1, 1}));
  EXPECT_EQ(net->fc4->weight.sizes().vec(), (Shape{256, 1024}));
}

TEST(AudioNet, WidthDivisorShrinksChannels) {
  AudioNet net(2, 16);
  auto out = net->forward(torch::randn({2, 1, 128, 129}));
  EXPECT_EQ(net->feature_dim(), 64);
  EXPECT_EQ(out.feature.sizes().vec(), (Shape{2, 64}));
  EXPECT_EQ(out.prediction.sizes().vec(), (Shape{2, 2}));
}

// model.audio-dropout acts on the input of the last linear layer (the authors' placement), not on the
// regression output: with almost everything dropped, the prediction is fc5's bias, never 0.
TEST(AudioNet, DropoutFeedsTheLastLinearLayer) {
  torch::manual_seed(5);
  AudioNet net(2, 16, /*dropout=*/0.999999);
  net->train();
  {
    torch::NoGradGuard no_grad;
    net->fc5->bias.fill_(0.5);
  }
  const auto prediction = net->forward(torch::randn({3, 1, 128, 129})).prediction;
  EXPECT_TRUE(torch::equal(prediction, torch::full({3, 2}, 0.5f))) << prediction;
}

TEST(Autocast, Bf16ForwardInsideTheScopeFloat32GradientsAndNothingAfter) {
  torch::manual_seed(3);
  AudioNet net(2, 16);
  net->eval();
  const auto x = torch::randn({2, 1, 128, 129});
  const auto reference = net->forward(x).prediction;
  torch::Tensor mixed;
  {
    Autocast amp(torch::kCPU, "bf16");
    mixed = net->forward(x).prediction;
  }
  EXPECT_EQ(mixed.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::allclose(mixed.to(torch::kFloat), reference, 0.05, 0.02)) << mixed << reference;
  mixed.to(torch::kFloat).sum().backward();
  EXPECT_EQ(net->fc5->weight.grad().scalar_type(), torch::kFloat);
  EXPECT_GT(net->fc5->weight.grad().abs().sum().item<float>(), 0.0f);
  // The scope is over: float32 again; "off" never changes anything.
  EXPECT_EQ(net->forward(x).prediction.scalar_type(), torch::kFloat);
  {
    Autocast off(torch::kCPU, "off");
    EXPECT_EQ(net->forward(x).prediction.scalar_type(), torch::kFloat);
  }
}

TEST(AudioNet, WeightsStartFromHeScaledNormals) {
  AudioNet net(1, 4);
  auto w = net->block3->named_parameters()["conv2.weight"];  // 256 x 128 x 3 x 3
  double expected_std = std::sqrt(2.0 / (128 * 9));
  EXPECT_NEAR(w.std().item<double>(), expected_std, 0.02 * expected_std);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.02 * expected_std);
}

TEST(PadSame, PadsLikeTensorFlowWithTheOddElementAtTheEnd) {
  // Width 4, kernel 3, stride 2: output ceil(4/2) = 2 needs (2−1)·2 + 3 − 4 = 1 element, at the end.
  auto x = torch::arange(1, 5, torch::kFloat32).reshape({1, 1, 1, 1, 4});
  auto p = pad_same(x, {1, 1, 3}, {1, 1, 2}, -7.0);
  EXPECT_EQ(p.sizes().vec(), (Shape{1, 1, 1, 1, 5}));
  EXPECT_EQ(p[0][0][0][0][4].item<float>(), -7.0f);
  EXPECT_EQ(p[0][0][0][0][0].item<float>(), 1.0f);
  // Time 16, kernel 7, stride 2: 8 outputs need 5 elements, 2 before and 3 after.
  auto t = pad_same(torch::ones({1, 1, 16, 1, 1}), {7, 1, 1}, {2, 1, 1}, 0.0);
  EXPECT_EQ(t.size(2), 21);
  EXPECT_EQ(t[0][0][1][0][0].item<float>(), 0.0f);
  EXPECT_EQ(t[0][0][2][0][0].item<float>(), 1.0f);
  EXPECT_EQ(t[0][0][17][0][0].item<float>(), 1.0f);
  EXPECT_EQ(t[0][0][18][0][0].item<float>(), 0.0f);
}

TEST(I3D, PublishedChannelsAtFullWidth) {
  I3D net(2);
  EXPECT_EQ(net->feature_dim(), 1024);
  EXPECT_EQ(net->Conv3d_1a_7x7->conv->weight.sizes().vec(), (Shape{64, 3, 7, 7, 7}));
  EXPECT_EQ(net->Conv3d_2c_3x3->conv->weight.sizes().vec(), (Shape{192, 64, 3, 3, 3}));
  EXPECT_EQ(net->Mixed_3c->out_channels(), 480);
  EXPECT_EQ(net->Mixed_4f->out_channels(), 832);
  EXPECT_EQ(net->Mixed_5c->b1b->conv->weight.sizes().vec(), (Shape{384, 192, 3, 3, 3}));
  EXPECT_EQ(net->Mixed_5c->b2b->conv->weight.sizes().vec(), (Shape{128, 48, 3, 3, 3}));
  EXPECT_DOUBLE_EQ(net->Mixed_4b->b0->bn->options.eps(), 1e-3);
  EXPECT_EQ(net->logits->weight.sizes().vec(), (Shape{2, 1024}));
}

TEST(I3D, TinyWidthOnASmallClip) {
  torch::NoGradGuard no_grad;
  I3D net(2, 0.125);
  EXPECT_EQ(net->feature_dim(), 128);  // Mixed_5c: 48 + 48 + 16 + 16
  auto out = net->forward(torch::randn({1, 3, 16, 32, 32}));
  EXPECT_EQ(out.feature.sizes().vec(), (Shape{1, 128}));
  EXPECT_EQ(out.prediction.sizes().vec(), (Shape{1, 2}));
  EXPECT_TRUE(torch::isfinite(out.prediction).all().item<bool>());
}

TEST(I3D, PublishedClipEndsInA2x7x7Map) {
  // Why the global mean equals the published (2, 7, 7) average pool on 16 x 224 x 224 clips.
  torch::NoGradGuard no_grad;
  I3D net(1, 0.125);
  net->eval();
  EXPECT_EQ(net->trunk(torch::randn({1, 3, 16, 224, 224})).sizes().vec(), (Shape{1, 128, 2, 7, 7}));
}

TEST(I3D, AnyClipSizeWorks) {
  torch::NoGradGuard no_grad;
  I3D net(1, 0.125);
  net->eval();
  for (Shape clip : {Shape{2, 3, 1, 16, 16}, Shape{1, 3, 5, 17, 23}}) {
    auto out = net->forward(torch::randn(clip));
    EXPECT_EQ(out.feature.sizes().vec(), (Shape{clip[0], 128}));
    EXPECT_EQ(out.prediction.sizes().vec(), (Shape{clip[0], 1}));
    EXPECT_TRUE(torch::isfinite(out.feature).all().item<bool>());
  }
}

TEST(I3D, HeadDropoutUsesItsProbability) {
  I3D net(2, 0.125, 1.0);
  net->train();
  auto out = net->forward(torch::randn({2, 3, 4, 16, 16}));
  // Every feature dropped: the prediction is the logits bias alone.
  EXPECT_TRUE(torch::allclose(out.prediction, net->logits->bias.expand({2, 2})));
}

}  // namespace
}  // namespace avf
