// Cross-attention (equations 1-5) against a hand-computed K = 3, L = 2 example, and every fusion
// variant of the factory.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/models/fusion.h"
#include "core/models/fusion_baselines.h"
#include "core/models/fusion_cross_attention.h"

namespace avf {
namespace {

using Shape = std::vector<int64_t>;

// The paper's X_a and X_v are K x L (columns = sub-sequences); the code takes [B, L, K] = X^T.
//   X_a = [1 0; 0 1; 1 1],  X_v = [0 1; 1 0; 1 1],  W = diag(1, 2, 0.5).
torch::Tensor Xa_T() { return torch::tensor({{1.0, 0.0, 1.0}, {0.0, 1.0, 1.0}}, torch::kFloat64).unsqueeze(0); }
torch::Tensor Xv_T() { return torch::tensor({{0.0, 1.0, 1.0}, {1.0, 0.0, 1.0}}, torch::kFloat64).unsqueeze(0); }

void set_w(CrossAttention& stage) {
  torch::NoGradGuard no_grad;
  stage->W.set_data(torch::diag(torch::tensor({1.0, 2.0, 0.5}, torch::kFloat64)));
}

// Columns of the hand-computed matrices below, as [l][k] to compare with [B, L, K] outputs.
void expect_matrix(const torch::Tensor& got, const std::vector<std::vector<double>>& want, const char* what) {
  ASSERT_EQ(got.size(0), 1);
  for (size_t i = 0; i < want.size(); ++i)
    for (size_t j = 0; j < want[i].size(); ++j)
      EXPECT_NEAR(got[0][i][j].item<double>(), want[i][j], 1e-12) << what << "[" << i << "][" << j << "]";
}

TEST(CrossAttention, HandComputedExample) {
  CrossAttention stage(3, 1.0);
  stage->to(torch::kFloat64);
  set_w(stage);
  auto out = stage->forward(Xa_T(), Xv_T());
  // (1) Z[i][j] = x_a^i · W x_v^j. W x_v^1 = (0, 2, 0.5), W x_v^2 = (1, 0, 0.5);
  //     x_a^1 = (1, 0, 1), x_a^2 = (0, 1, 1)  →  Z = [0.5 1.5; 2.5 0.5].
  // (2) Column softmax of Z: column 1 (0.5, 2.5) → (s, 1 − s) with s = 1/(1 + e²); column 2 (1.5, 0.5)
  //     → (r, 1 − r) with r = 1/(1 + e⁻¹). Z^T = [0.5 2.5; 1.5 0.5]: column 1 (0.5, 1.5) → (1 − r, r),
  //     column 2 (2.5, 0.5) → (1 − s, s).
  const double s = 1 / (1 + std::exp(2.0)), r = 1 / (1 + std::exp(-1.0));
  expect_matrix(out.audio_weights, {{s, r}, {1 - s, 1 - r}}, "A_a");
  expect_matrix(out.visual_weights, {{1 - r, 1 - s}, {r, s}}, "A_v");
  // (3) X̂_a = X_a A_a: rows of X_a are (1,0), (0,1), (1,1) → rows (s, r), (1−s, 1−r), (1, 1).
  //     X̂_v = X_v A_v: rows (0,1), (1,0), (1,1) → rows (r, s), (1−r, 1−s), (1, 1).
  // (4), (5) X_att = tanh(X + X̂), written here as [l][k] (column l of the paper's K x L matrix).
  expect_matrix(
      out.audio,
      {{std::tanh(1 + s), std::tanh(1 - s), std::tanh(2.0)}, {std::tanh(r), std::tanh(2 - r), std::tanh(2.0)}},
      "X_att,a");
  expect_matrix(
      out.visual,
      {{std::tanh(r), std::tanh(2 - r), std::tanh(2.0)}, {std::tanh(1 + s), std::tanh(1 - s), std::tanh(2.0)}},
      "X_att,v");
}

TEST(CrossAttention, TemperatureDividesZ) {
  CrossAttention stage(3, 2.0);
  stage->to(torch::kFloat64);
  set_w(stage);
  auto out = stage->forward(Xa_T(), Xv_T());
  // Column 1 of Z/2 is (0.25, 1.25) → first weight 1/(1 + e¹); column 2 (0.75, 0.25) → 1/(1 + e^−0.5).
  const double s = 1 / (1 + std::exp(1.0)), r = 1 / (1 + std::exp(-0.5));
  expect_matrix(out.audio_weights, {{s, r}, {1 - s, 1 - r}}, "A_a at T=2");
}

// Makes the head pass its input through: dropout off, fc1 = fc2 = identity, inputs positive (ReLU).
void make_identity(PredictionHead& head) {
  torch::NoGradGuard no_grad;
  for (auto fc : {head->fc1, head->fc2}) {
    fc->weight.set_data(torch::eye(fc->weight.size(0), fc->weight.size(1), torch::kFloat64));
    fc->bias.set_data(torch::zeros({fc->bias.size(0)}, torch::kFloat64));
  }
}

TEST(CrossAttentionFusion, FeedsVisualThenAudioAttendedFeaturesToTheHead) {
  CrossAttentionFusion fusion(3, 6, 1, 1.0, 6, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  set_w(fusion->stages[0]);
  make_identity(fusion->head);
  auto out = fusion->forward(Xa_T(), Xv_T());
  const double s = 1 / (1 + std::exp(2.0)), r = 1 / (1 + std::exp(-1.0));
  // [X_att,v; X_att,a] per sub-sequence: 3 visual values, then 3 audio values.
  expect_matrix(out.prediction,
                {{std::tanh(r), std::tanh(2 - r), std::tanh(2.0), std::tanh(1 + s), std::tanh(1 - s), std::tanh(2.0)},
                 {std::tanh(1 + s), std::tanh(1 - s), std::tanh(2.0), std::tanh(r), std::tanh(2 - r), std::tanh(2.0)}},
                "prediction");
  ASSERT_EQ(out.attention.size(), 2u);
  EXPECT_EQ(out.attention[0].first, "stage1.audio");
  EXPECT_EQ(out.attention[1].first, "stage1.visual");
}

TEST(CrossAttentionFusion, SecondStageAttendsTheFirstStagesOutput) {
  CrossAttentionFusion fusion(3, 6, 2, 1.0, 6, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  set_w(fusion->stages[0]);
  {
    torch::NoGradGuard no_grad;
    fusion->stages[1]->W.zero_();  // Z = 0: every weight 1/L, so X̂ is the mean over sub-sequences
  }
  make_identity(fusion->head);
  auto out = fusion->forward(Xa_T(), Xv_T());
  auto first = fusion->stages[0]->forward(Xa_T(), Xv_T());
  auto expected_v = torch::tanh(first.visual + first.visual.mean(1, true));
  auto expected_a = torch::tanh(first.audio + first.audio.mean(1, true));
  EXPECT_TRUE(torch::allclose(out.prediction, torch::cat({expected_v, expected_a}, -1), 0, 1e-12));
  ASSERT_EQ(out.attention.size(), 4u);
  EXPECT_EQ(out.attention[3].first, "stage2.visual");
  EXPECT_TRUE(torch::allclose(out.attention[2].second, torch::full({1, 2, 2}, 0.5, torch::kFloat64)));
}

TEST(SelfAttentionFusion, JointFeaturesAttendToThemselves) {
  SelfAttentionFusion fusion(3, 6, 1.0, 6, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  {
    torch::NoGradGuard no_grad;
    // W = I on the visual half only: Z[i][j] = x_v^i · x_v^j = [2 1; 1 2] for X_v above.
    fusion->W.zero_();
    for (int k = 0; k < 3; ++k) fusion->W[k][k] = 1.0;
  }
  make_identity(fusion->head);
  auto out = fusion->forward(Xa_T(), Xv_T());
  // Column softmax of [2 1; 1 2]: (q, 1 − q) and (1 − q, q) with q = 1/(1 + e⁻¹).
  const double q = 1 / (1 + std::exp(-1.0));
  expect_matrix(out.attention[0].second, {{q, 1 - q}, {1 - q, q}}, "A");
  // X = [X_v; X_a] has columns x^1 = (0,1,1, 1,0,1), x^2 = (1,0,1, 0,1,1); X̂ column 1 = q x^1 + (1−q) x^2.
  std::vector<double> x1{0, 1, 1, 1, 0, 1}, x2{1, 0, 1, 0, 1, 1}, y1, y2;
  for (int k = 0; k < 6; ++k) {
    y1.push_back(std::tanh(x1[k] + q * x1[k] + (1 - q) * x2[k]));
    y2.push_back(std::tanh(x2[k] + (1 - q) * x1[k] + q * x2[k]));
  }
  expect_matrix(out.prediction, {y1, y2}, "prediction");
}

TEST(ConcatFusion, VisualThenAudio) {
  ConcatFusion fusion(3, 6, 6, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  make_identity(fusion->head);
  auto out = fusion->forward(Xa_T(), Xv_T());
  expect_matrix(out.prediction, {{0, 1, 1, 1, 0, 1}, {1, 0, 1, 0, 1, 1}}, "prediction");
  EXPECT_TRUE(out.attention.empty());
}

TEST(LstmFusion, RunsForwardInTime) {
  LstmFusion fusion(4, 2, 8, 0.5);
  fusion->eval();
  auto a = torch::randn({1, 5, 4}), v = torch::randn({1, 5, 4});
  auto before = fusion->forward(a, v).prediction;
  a[0][4] += 1.0;  // a change at the last sub-sequence leaves the earlier predictions alone
  auto after = fusion->forward(a, v).prediction;
  EXPECT_TRUE(torch::equal(before.slice(1, 0, 4), after.slice(1, 0, 4)));
  EXPECT_FALSE(torch::equal(before.slice(1, 4), after.slice(1, 4)));
}

TEST(MakeFusion, EveryVariantMapsFeaturesToPerSubsequencePredictions) {
  ModelConfig config;
  config.hidden = 16;
  config.attention_dim = 5;
  config.recursions = 3;
  // Map shapes per sequence: L x L for the correlation heads, K x k (feature x model.attention-dim)
  // for the joint heads' H maps, L x 2 and L x recursions for the gated head's gates, 2L x 2L for
  // the transformer.
  const Shape LL{3, 4, 4}, Kk{3, 8, 5}, gate{3, 4, 2}, final_gate{3, 4, 3}, tokens{3, 8, 8};
  const std::map<std::string, std::vector<Shape>> maps{
      {"cross-attention", {LL, LL}},
      {"cross-attention-2stage", {LL, LL, LL, LL}},
      {"concat", {}},
      {"self-attention", {LL}},
      {"lstm", {}},
      {"joint-cross-attention", {Kk, Kk}},
      {"recursive-joint-cross-attention", {Kk, Kk, Kk, Kk, Kk, Kk}},
      {"gated-recursive-joint-cross-attention",
       {Kk, Kk, gate, gate, Kk, Kk, gate, gate, Kk, Kk, gate, gate, final_gate, final_gate}},
      {"transformer", {tokens}}};
  for (const auto& [name, shapes] : maps) {
    config.fusion = name;
    for (bool input_lstm : {false, true}) {
      config.input_lstm = input_lstm;
      for (int64_t targets : {1, 2}) {
        auto fusion = make_fusion(config, 8, targets, 4);
        auto out = fusion->forward(torch::randn({3, 4, 8}), torch::randn({3, 4, 8}));
        EXPECT_EQ(out.prediction.sizes().vec(), (Shape{3, 4, targets})) << name;
        ASSERT_EQ(out.attention.size(), shapes.size()) << name;
        for (size_t i = 0; i < shapes.size(); ++i)
          EXPECT_EQ(out.attention[i].second.sizes().vec(), shapes[i]) << name << " " << out.attention[i].first;
        out.prediction.sum().backward();
        for (const auto& p : fusion->named_parameters())
          EXPECT_TRUE(p.value().grad().defined()) << name << " " << p.key();
      }
    }
  }
  config.fusion = "joint-cross-attention";
  EXPECT_THROW(make_fusion(config, 8, 2), ConfigError);  // L unknown
  config.fusion = "perceiver";
  EXPECT_THROW(make_fusion(config, 8, 2), ConfigError);
}

TEST(MakeFusion, CrossAttentionWeightIsXavierInitialised) {
  ModelConfig config;
  auto fusion = make_fusion(config, 256, 2);
  auto W = fusion->named_parameters()["stage1.W"];
  EXPECT_EQ(W.sizes().vec(), (Shape{256, 256}));
  // Glorot normal: std = sqrt(2 / (fan_in + fan_out)).
  EXPECT_NEAR(W.std().item<double>(), std::sqrt(2.0 / 512), 0.02 * std::sqrt(2.0 / 512));
}

}  // namespace
}  // namespace avf
