// The CCC loss against the float64 metric, its NaN masking, and its gradient by finite differences.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/training/ccc_loss.h"

namespace avf {
namespace {

TEST(CccLoss, IsOneMinusCccAveragedOverTargets) {
  torch::manual_seed(0);
  auto label = torch::randn({4, 8, 2}, torch::kFloat64);
  auto pred = 0.7 * label + 0.4 * torch::randn({4, 8, 2}, torch::kFloat64) + 0.1;
  auto stats = ccc_stats(pred, label);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].count(), 32);
  double expected = ((1 - stats[0].ccc()) + (1 - stats[1].ccc())) / 2;
  EXPECT_NEAR(ccc_loss(pred, label).item<double>(), expected, 1e-12);
  EXPECT_NEAR(ccc_loss(label, label).item<double>(), 0.0, 1e-12);
}

TEST(CccLoss, NanLabelsAreMasked) {
  auto pred = torch::tensor({1.0, 2.0, 9.0, 3.0}, torch::kFloat64).reshape({4, 1});
  auto label = torch::tensor({2.0, 2.0, std::nan(""), 5.0}, torch::kFloat64).reshape({4, 1});
  // The labelled pairs are x = {1,2,3}, y = {2,2,5}: CCC = 6/11 (see test_ccc).
  auto loss = ccc_loss(pred, label);
  EXPECT_NEAR(loss.item<double>(), 1 - 6.0 / 11.0, 1e-12);
  EXPECT_NEAR(ccc_stats(pred, label)[0].ccc(), 6.0 / 11.0, 1e-12);
}

TEST(CccLoss, UnlabelledTargetIsLeftOut) {
  auto pred = torch::tensor({{1.0, 5.0}, {2.0, 6.0}, {3.0, 7.0}}, torch::kFloat64);
  const double nan = std::nan("");
  auto label = torch::tensor({{2.0, nan}, {2.0, nan}, {5.0, nan}}, torch::kFloat64);
  EXPECT_NEAR(ccc_loss(pred, label).item<double>(), 1 - 6.0 / 11.0, 1e-12);
  EXPECT_EQ(ccc_loss(pred, torch::full_like(label, NAN)).item<double>(), 0.0);
}

TEST(CccLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(1);
  auto label = torch::randn({3, 5, 2}, torch::kFloat64);
  label[1][2][0] = NAN;
  auto pred = (0.5 * label.nan_to_num() + 0.5 * torch::randn_like(label)).requires_grad_();
  auto grad = torch::autograd::grad({ccc_loss(pred, label)}, {pred})[0];
  auto p = pred.detach().clone();
  auto flat = p.view({-1});
  const double h = 1e-6;
  for (int64_t i = 0; i < flat.numel(); ++i) {
    double v = flat[i].item<double>();
    flat[i] = v + h;
    double up = ccc_loss(p, label).item<double>();
    flat[i] = v - h;
    double down = ccc_loss(p, label).item<double>();
    flat[i] = v;
    EXPECT_NEAR(grad.view({-1})[i].item<double>(), (up - down) / (2 * h), 1e-8) << "element " << i;
  }
  // The prediction beside the missing label has no influence on the loss.
  EXPECT_EQ(grad[1][2][0].item<double>(), 0.0);
}

}  // namespace
}  // namespace avf
