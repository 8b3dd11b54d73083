// The later fusion heads (joint cross-attention, its recursive and gated forms, the transformer)
// against cases worked by hand and against the papers' equations evaluated here in float64 with
// plain loops (the Mat helpers below), independently of the implementation's tensor code.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/models/fusion.h"
#include "core/models/fusion_gated_joint_cross_attention.h"
#include "core/models/fusion_joint_cross_attention.h"
#include "core/models/fusion_transformer.h"

namespace avf {
namespace {

// ---- a tiny float64 matrix toolkit, rows x columns ----
using Mat = std::vector<std::vector<double>>;
Mat zeros(size_t r, size_t c) { return Mat(r, std::vector<double>(c, 0.0)); }
Mat mul(const Mat& a, const Mat& b) {
  Mat out = zeros(a.size(), b[0].size());
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b[0].size(); ++j)
      for (size_t k = 0; k < b.size(); ++k) out[i][j] += a[i][k] * b[k][j];
  return out;
}
Mat T(const Mat& a) {
  Mat out = zeros(a[0].size(), a.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[0].size(); ++j) out[j][i] = a[i][j];
  return out;
}
Mat add(const Mat& a, const Mat& b) {
  Mat out = a;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[0].size(); ++j) out[i][j] += b[i][j];
  return out;
}
template <class F>
Mat map(const Mat& a, F f) {
  Mat out = a;
  for (auto& row : out)
    for (auto& x : row) x = f(x);
  return out;
}
Mat stack_rows(const Mat& a, const Mat& b) {  // [a; b]
  Mat out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
Mat from(const torch::Tensor& t) {  // a 2-D tensor (or [1, r, c]) as Mat
  auto x = t.dim() == 3 ? t[0] : t;
  x = x.to(torch::kFloat64).contiguous();
  Mat out = zeros(x.size(0), x.size(1));
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = 0; j < x.size(1); ++j) out[i][j] = x[i][j].item<double>();
  return out;
}
double relu(double x) { return x > 0 ? x : 0; }

void expect_near(const torch::Tensor& got, const Mat& want, const char* what, double tol = 1e-10) {
  const Mat g = from(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  ASSERT_EQ(g[0].size(), want[0].size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    for (size_t j = 0; j < want[0].size(); ++j)
      EXPECT_NEAR(g[i][j], want[i][j], tol) << what << "[" << i << "][" << j << "]";
}

// The prediction head as the identity: dropout off (eval), fc1 = I with bias +100, fc2 = I with
// bias -100, so ReLU(x + 100) - 100 = x for the values used here.
void make_identity(PredictionHead& head) {
  torch::NoGradGuard no_grad;
  head->fc1->weight.set_data(torch::eye(head->fc1->weight.size(0), head->fc1->weight.size(1), torch::kFloat64));
  head->fc1->bias.set_data(torch::full({head->fc1->bias.size(0)}, 100.0, torch::kFloat64));
  head->fc2->weight.set_data(torch::eye(head->fc2->weight.size(0), head->fc2->weight.size(1), torch::kFloat64));
  head->fc2->bias.set_data(torch::full({head->fc2->bias.size(0)}, -100.0, torch::kFloat64));
}

// ---- joint cross-attention, the paper's orientation: X_a, X_v are K x L ----
struct Jca {
  Mat W_ja, W_jv, W_a, W_v, W_ca, W_cv, W_ha, W_hv;
  explicit Jca(const JointCrossAttention& m)
      : W_ja(from(m->W_ja)),
        W_jv(from(m->W_jv)),
        W_a(from(m->W_a)),
        W_v(from(m->W_v)),
        W_ca(from(m->W_ca)),
        W_cv(from(m->W_cv)),
        W_ha(from(m->W_ha)),
        W_hv(from(m->W_hv)) {}
  // Returns X_att (K x L) and H (K x k) of one modality.
  static std::pair<Mat, Mat> attend(const Mat& X, const Mat& J, const Mat& W_j, const Mat& W_x, const Mat& W_c,
                                    const Mat& W_h) {
    const double d = double(J.size());
    const Mat C = map(mul(mul(X, W_j), T(J)), [&](double x) { return std::tanh(x / std::sqrt(d)); });
    const Mat H = map(add(mul(X, W_x), mul(C, W_c)), relu);
    return {add(mul(H, W_h), X), H};
  }
  std::pair<Mat, Mat> operator()(const Mat& Xa, const Mat& Xv) const {
    const Mat J = stack_rows(Xa, Xv);
    return {attend(Xa, J, W_ja, W_a, W_ca, W_ha).first, attend(Xv, J, W_jv, W_v, W_cv, W_hv).first};
  }
};

// K = 2, L = 2, k = 1. X_a = I (columns = sub-sequences), X_v = [1 1; 0 0].
//   J = [X_a; X_v] is 4 x 2, d = 4, so sqrt(d) = 2. W_ja = W_jv = I, W_a = W_v = 0,
//   W_ca = W_cv = (1 1 1 1)^T, W_ha = W_hv = (1 −1).
// Audio: X_a J^T = J^T = [1 0 1 0; 0 1 1 0] → C_a = tanh(J^T / 2) = [t 0 t 0; 0 t t 0], t = tanh ½;
//   H_a = ReLU(C_a 1) = (2t, 2t)^T; X_att,a = X_a + H_a (1 −1) = [1+2t −2t; 2t 1−2t].
// Visual: X_v J^T = [1 1 2 0; 0 0 0 0] → C_v = [t t tanh1 0; 0 0 0 0]; H_v = (h, 0)^T with
//   h = 2t + tanh 1; X_att,v = [1+h 1−h; 0 0].
TEST(JointCrossAttention, HandComputedExample) {
  JointCrossAttention jca(2, 2, 1);
  jca->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto* W : {&jca->W_ja, &jca->W_jv}) W->copy_(torch::eye(2, torch::kFloat64));
    for (auto* W : {&jca->W_a, &jca->W_v}) W->zero_();
    for (auto* W : {&jca->W_ca, &jca->W_cv}) W->fill_(1.0);
    for (auto* W : {&jca->W_ha, &jca->W_hv}) W->copy_(torch::tensor({{1.0, -1.0}}, torch::kFloat64));
  }
  // [B, L, K] = X^T.
  auto out = jca->forward(torch::tensor({{{1.0, 0.0}, {0.0, 1.0}}}, torch::kFloat64),
                          torch::tensor({{{1.0, 0.0}, {1.0, 0.0}}}, torch::kFloat64));
  const double t = std::tanh(0.5), h = 2 * t + std::tanh(1.0);
  expect_near(out.audio, {{1 + 2 * t, 2 * t}, {-2 * t, 1 - 2 * t}}, "X_att,a^T");
  expect_near(out.visual, {{1 + h, 0}, {1 - h, 0}}, "X_att,v^T");
  expect_near(out.audio_map, {{2 * t}, {2 * t}}, "H_a");
  expect_near(out.visual_map, {{h}, {0}}, "H_v");
}

// Random weights and features, K = 3, L = 4, k = 2: the module against the equations above.
TEST(JointCrossAttention, MatchesTheEquationsOnRandomWeights) {
  torch::manual_seed(3);
  JointCrossAttention jca(3, 4, 2);
  jca->to(torch::kFloat64);
  auto a = torch::randn({1, 4, 3}, torch::kFloat64), v = torch::randn({1, 4, 3}, torch::kFloat64);
  auto out = jca->forward(a, v);
  const Jca eq(jca);
  auto [Xa, Xv] = eq(T(from(a)), T(from(v)));
  expect_near(out.audio, T(Xa), "X_att,a^T");
  expect_near(out.visual, T(Xv), "X_att,v^T");
}

TEST(JointCrossAttention, RejectsAnotherNumberOfSubsequences) {
  JointCrossAttention jca(3, 4, 2);
  try {
    jca->forward(torch::randn({1, 5, 3}), torch::randn({1, 5, 3}));
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.sequence-frames"), std::string::npos) << e.what();
  }
}

// Two iterations with their own weights, the second attending the first's output; the head sees
// [X_att,v; X_att,a] of the last iteration.
TEST(RecursiveJointCrossAttention, SecondIterationAttendsTheFirstsOutput) {
  torch::manual_seed(5);
  JointCrossAttentionFusion fusion(3, 4, 6, 2, false, 2, 6, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  make_identity(fusion->head);
  ASSERT_EQ(fusion->iterations.size(), 2u);
  EXPECT_FALSE(torch::equal(fusion->iterations[0]->W_ja, fusion->iterations[1]->W_ja));
  auto a = torch::randn({1, 4, 3}, torch::kFloat64), v = torch::randn({1, 4, 3}, torch::kFloat64);
  auto out = fusion->forward(a, v);
  auto [Xa1, Xv1] = Jca(fusion->iterations[0])(T(from(a)), T(from(v)));
  auto [Xa2, Xv2] = Jca(fusion->iterations[1])(Xa1, Xv1);
  expect_near(out.prediction, T(stack_rows(Xv2, Xa2)), "prediction", 1e-9);
  ASSERT_EQ(out.attention.size(), 4u);
  EXPECT_EQ(out.attention[2].first, "iter2.audio");
  EXPECT_EQ(out.attention[3].first, "iter2.visual");
  EXPECT_EQ(out.attention[3].second.sizes().vec(), (std::vector<int64_t>{1, 3, 2}));
}

// The input BLSTM: unit-norm outputs, and bidirectional (a change at the last sub-sequence reaches
// the first).
TEST(RecursiveJointCrossAttention, InputBlstmIsBidirectionalAndNormalised) {
  InputBlstm blstm(5);
  auto x = torch::randn({2, 4, 5});
  auto y = blstm(x);
  EXPECT_TRUE(torch::allclose(y.norm(2, -1), torch::ones({2, 4}), 1e-5, 1e-5));
  auto x2 = x.clone();
  x2[0][3] += 1.0;
  EXPECT_FALSE(torch::allclose(blstm(x2)[0][0], y[0][0]));
}

// ---- gated recursive joint cross-attention ----
struct GatedFixture {
  GatedJointCrossAttentionFusion fusion{nullptr};
  torch::Tensor a, v;
  GatedFixture() {
    torch::manual_seed(7);
    fusion = GatedJointCrossAttentionFusion(3, 4, 6, 2, false, 2, 0.5, 6, 0.5);
    fusion->to(torch::kFloat64);
    fusion->eval();
    make_identity(fusion->head);
    a = torch::randn({1, 4, 3}, torch::kFloat64);
    v = torch::randn({1, 4, 3}, torch::kFloat64);
  }
  // Every gate a constant choice: weights 0, biases (0, ±50) pick one column with weight ~1.
  void force(double iteration_bias, int final_pick) {
    torch::NoGradGuard no_grad;
    for (auto& g : fusion->audio_gates) g->weight.zero_(), g->bias.copy_(torch::tensor({0.0, iteration_bias}));
    for (auto& g : fusion->visual_gates) g->weight.zero_(), g->bias.copy_(torch::tensor({0.0, iteration_bias}));
    for (auto& g : {fusion->audio_final_gate, fusion->visual_final_gate}) {
      g->weight.zero_();
      g->bias.fill_(-50.0);
      g->bias[final_pick] = 50.0;
    }
  }
};

// Gates forced to "attended" and the final gate to the last iteration: the result is RJCA with the
// same attention weights (ReLU'd: the gate's ReLU after each iteration).
TEST(GatedRecursiveJointCrossAttention, AllGatesOnAttendedIsRecursiveWithReLU) {
  GatedFixture f;
  f.force(50.0, 1);
  auto out = f.fusion->forward(f.a, f.v);
  auto [Xa1, Xv1] = Jca(f.fusion->iterations[0])(T(from(f.a)), T(from(f.v)));
  auto [Xa2, Xv2] = Jca(f.fusion->iterations[1])(map(Xa1, relu), map(Xv1, relu));
  expect_near(out.prediction, map(T(stack_rows(Xv2, Xa2)), relu), "prediction", 1e-9);
}

// Gates forced to "unattended": every iteration passes its input on (ReLU'd), whatever the final gate.
TEST(GatedRecursiveJointCrossAttention, AllGatesOnUnattendedPassesTheInputs) {
  GatedFixture f;
  f.force(-50.0, 0);
  auto out = f.fusion->forward(f.a, f.v);
  expect_near(out.prediction, map(T(stack_rows(T(from(f.v)), T(from(f.a)))), relu), "prediction", 1e-9);
}

// Random gate weights at temperature 0.5: the gates and the mixture against the equations.
TEST(GatedRecursiveJointCrossAttention, MatchesTheEquationsOnRandomWeights) {
  GatedFixture f;
  auto out = f.fusion->forward(f.a, f.v);
  const double temperature = 0.5;
  // softmax over the columns of each row of (X W^T + b) / T; X is L x n (rows = sub-sequences).
  auto gate = [&](const Mat& X, const torch::nn::Linear& fc) {
    Mat z = mul(X, T(from(fc->weight)));
    const auto b = fc->bias.to(torch::kFloat64);
    for (auto& row : z) {
      double sum = 0;
      for (size_t j = 0; j < row.size(); ++j) sum += row[j] = std::exp((row[j] + b[j].item<double>()) / temperature);
      for (auto& x : row) x /= sum;
    }
    return z;
  };
  auto mixed = [](const Mat& g, const std::vector<Mat>& xs) {  // Σ_i g[:, i] x_i, all L x K
    Mat out = zeros(xs[0].size(), xs[0][0].size());
    for (size_t l = 0; l < out.size(); ++l)
      for (size_t i = 0; i < xs.size(); ++i)
        for (size_t k = 0; k < out[0].size(); ++k) out[l][k] += g[l][i] * xs[i][l][k];
    return out;
  };
  Mat a = from(f.a), v = from(f.v);  // L x K
  std::vector<Mat> gated_a, gated_v;
  for (int r = 0; r < 2; ++r) {
    auto [Xa, Xv] = Jca(f.fusion->iterations[r])(T(a), T(v));
    const Mat ga = gate(T(Xa), f.fusion->audio_gates[r]), gv = gate(T(Xv), f.fusion->visual_gates[r]);
    expect_near(out.attention[4 * r + 2].second, ga, "iteration gate (audio)");
    a = map(mixed(ga, {a, T(Xa)}), relu);
    v = map(mixed(gv, {v, T(Xv)}), relu);
    gated_a.push_back(a);
    gated_v.push_back(v);
  }
  auto side_by_side = [](const std::vector<Mat>& xs) {
    Mat out = xs[0];
    for (size_t l = 0; l < out.size(); ++l) out[l].insert(out[l].end(), xs[1][l].begin(), xs[1][l].end());
    return out;
  };
  const Mat Ga = gate(side_by_side(gated_a), f.fusion->audio_final_gate);
  const Mat Gv = gate(side_by_side(gated_v), f.fusion->visual_final_gate);
  ASSERT_EQ(out.attention.back().first, "gate.visual");
  expect_near(out.attention.back().second, Gv, "final gate (visual)");
  Mat expected = mixed(Gv, gated_v);
  const Mat fa = mixed(Ga, gated_a);
  for (size_t l = 0; l < expected.size(); ++l) expected[l].insert(expected[l].end(), fa[l].begin(), fa[l].end());
  expect_near(out.prediction, expected, "prediction", 1e-9);
}

// ---- transformer ----
// Zero query and key weights: every score is equal, so each token attends uniformly to the 2L
// tokens. With L = 1, K = 2, one head, value/output = I, no biases, no modality embedding and the
// feed-forward layer zeroed: MHA(T) = the mean token m = (1.5, 1.5) for both tokens, so
//   Y_a = LayerNorm((1, 3) + m) = LayerNorm(2.5, 4.5) = (−1, 1),  Y_v = LayerNorm(3.5, 1.5) = (1, −1)
// (γ = 1, β = 0; up to LayerNorm's eps), Z = LayerNorm(Y) = Y, and the head sees [Z_v; Z_a].
TEST(TransformerFusion, UniformAttentionWhenQueriesAndKeysAreZero) {
  TransformerFusion fusion(2, 4, 1, 4, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  make_identity(fusion->head);
  {
    torch::NoGradGuard no_grad;
    for (auto fc : {fusion->attention->query, fusion->attention->key, fusion->ff1, fusion->ff2})
      fc->weight.zero_(), fc->bias.zero_();
    for (auto fc : {fusion->attention->value, fusion->attention->output})
      fc->weight.copy_(torch::eye(2, torch::kFloat64)), fc->bias.zero_();
    fusion->modality.zero_();
  }
  auto out =
      fusion->forward(torch::tensor({{{1.0, 3.0}}}, torch::kFloat64), torch::tensor({{{2.0, 0.0}}}, torch::kFloat64));
  expect_near(out.attention[0].second, {{0.5, 0.5}, {0.5, 0.5}}, "attention weights");
  expect_near(out.prediction, {{1, -1, -1, 1}}, "prediction", 1e-4);
}

// Random weights, L = 2, K = 4, 2 heads: the module against scaled dot-product attention with a row
// softmax per head, post-norm residuals and the feed-forward layer, evaluated with loops.
TEST(TransformerFusion, MatchesTheEquationsOnRandomWeights) {
  torch::manual_seed(11);
  const int64_t L = 2, K = 4, H = 2, d_h = K / H;
  TransformerFusion fusion(K, 8, H, 8, 0.5);
  fusion->to(torch::kFloat64);
  fusion->eval();
  make_identity(fusion->head);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : fusion->parameters()) p.normal_(0.0, 0.7);  // LayerNorm γ, β and the biases too
    make_identity(fusion->head);
  }
  auto a = torch::randn({1, L, K}, torch::kFloat64), v = torch::randn({1, L, K}, torch::kFloat64);
  auto out = fusion->forward(a, v);

  auto linear = [](const Mat& X, const torch::nn::Linear& fc) {
    Mat y = mul(X, T(from(fc->weight)));
    const auto b = fc->bias.to(torch::kFloat64);
    for (auto& row : y)
      for (size_t j = 0; j < row.size(); ++j) row[j] += b[j].item<double>();
    return y;
  };
  auto layer_norm = [](const Mat& X, const torch::nn::LayerNorm& ln) {
    Mat y = X;
    const auto g = ln->weight.to(torch::kFloat64), b = ln->bias.to(torch::kFloat64);
    for (auto& row : y) {
      double mean = 0, var = 0;
      for (double x : row) mean += x / row.size();
      for (double x : row) var += (x - mean) * (x - mean) / row.size();
      for (size_t j = 0; j < row.size(); ++j)
        row[j] = (row[j] - mean) / std::sqrt(var + 1e-5) * g[j].item<double>() + b[j].item<double>();
    }
    return y;
  };
  const Mat e = from(fusion->modality);
  Mat tokens;
  for (const auto& [x, m] : {std::pair{from(a), 0}, std::pair{from(v), 1}})
    for (auto row : x) {
      for (int64_t k = 0; k < K; ++k) row[k] += e[m][k];
      tokens.push_back(row);
    }
  const auto& mha = fusion->attention;
  const Mat Q = linear(tokens, mha->query), Kt = linear(tokens, mha->key), V = linear(tokens, mha->value);
  Mat heads = zeros(2 * L, K), mean_weights = zeros(2 * L, 2 * L);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < 2 * L; ++i) {
      std::vector<double> w(2 * L);
      double sum = 0;
      for (int64_t j = 0; j < 2 * L; ++j) {
        double s = 0;
        for (int64_t c = h * d_h; c < (h + 1) * d_h; ++c) s += Q[i][c] * Kt[j][c];
        sum += w[j] = std::exp(s / std::sqrt(double(d_h)));
      }
      for (int64_t j = 0; j < 2 * L; ++j) {
        w[j] /= sum;
        mean_weights[i][j] += w[j] / H;
        for (int64_t c = h * d_h; c < (h + 1) * d_h; ++c) heads[i][c] += w[j] * V[j][c];
      }
    }
  expect_near(out.attention[0].second, mean_weights, "attention weights (mean over heads)");
  const Mat Y = layer_norm(add(tokens, linear(heads, mha->output)), fusion->norm1);
  const Mat Z = layer_norm(add(Y, linear(map(linear(Y, fusion->ff1), relu), fusion->ff2)), fusion->norm2);
  Mat expected;
  for (int64_t l = 0; l < L; ++l) {
    auto row = Z[L + l];  // visual token first
    row.insert(row.end(), Z[l].begin(), Z[l].end());
    expected.push_back(row);
  }
  expect_near(out.prediction, expected, "prediction", 1e-9);
}

TEST(TransformerFusion, HeadsMustDivideTheFeatureSize) {
  try {
    TransformerFusion(6, 2, 4, 8, 0.5);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.heads"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace avf
