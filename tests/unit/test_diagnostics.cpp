// log.diagnostics (core/training/diagnostics.h) on cases worked by hand: parameter groups, the gradient
// norm of each group averaged over steps, and the normalised entropy of maps whose columns or rows
// are distributions (uniform 1, one-hot 0, neither NaN).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/training/diagnostics.h"

using namespace avf;

TEST(Diagnostics, ParametersGroupByTheirModuleAtMostTwoLevelsDeep) {
  EXPECT_EQ(parameter_group("stage1.W"), "stage1");
  EXPECT_EQ(parameter_group("head.fc1.weight"), "head.fc1");
  EXPECT_EQ(parameter_group("Mixed_3b.b1a.conv3d.weight"), "Mixed_3b.b1a");
  EXPECT_EQ(parameter_group("modality"), "modality");
}

namespace {
struct Two : torch::nn::Module {
  Two() {
    a = register_module("a", torch::nn::Linear(torch::nn::LinearOptions(2, 1).bias(false)));
    b = register_module("b", torch::nn::Linear(torch::nn::LinearOptions(1, 1).bias(false)));
  }
  torch::nn::Linear a{nullptr}, b{nullptr};
};
}  // namespace

TEST(Diagnostics, GradientNormsAreEachGroupsL2NormMeanOverSteps) {
  Two m;
  GradientNorms norms;
  m.a->weight.mutable_grad() = torch::tensor({{3.0f, 4.0f}});  // norm 5
  m.b->weight.mutable_grad() = torch::tensor({{-2.0f}});       // norm 2
  norms.add(m);
  m.a->weight.mutable_grad() = torch::tensor({{0.0f, 1.0f}});  // norm 1
  m.b->weight.mutable_grad() = torch::tensor({{6.0f}});        // norm 6
  norms.add(m);
  const auto j = norms.mean_and_reset();
  EXPECT_DOUBLE_EQ(j.at("a").get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j.at("b").get<double>(), 4.0);
  EXPECT_TRUE(norms.mean_and_reset().empty()) << "reset after reporting";
}

TEST(Diagnostics, EntropyOfColumnsOrRowsNormalisedByTheirLength) {
  const auto uniform_columns = torch::full({2, 4, 3}, 0.25);  // each column sums to 1 over 4 rows
  EXPECT_NEAR(normalised_entropy(uniform_columns), 1.0, 1e-9);
  const auto one_hot_rows = torch::eye(3).unsqueeze(0);  // rows and columns one-hot
  EXPECT_NEAR(normalised_entropy(one_hot_rows), 0.0, 1e-9);
  // Rows are distributions over 2 entries, columns are not: rows [0.5, 0.5] and [1, 0] -> (1 + 0) / 2.
  const auto rows = torch::tensor({{{0.5, 0.5}, {1.0, 0.0}, {1.0, 0.0}}});
  EXPECT_NEAR(normalised_entropy(rows), 1.0 / 3.0, 1e-9);
  EXPECT_TRUE(std::isnan(normalised_entropy(torch::tensor({{{2.0, 0.0}, {0.0, 3.0}}})))) << "a ReLU map";
  EXPECT_TRUE(std::isnan(normalised_entropy(torch::tensor({{{0.5, -0.5}, {0.5, 1.5}}})))) << "negative weights";
}
