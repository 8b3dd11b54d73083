// CCC (equation 7) against hand-computed values, and the mergeable statistics against the whole series.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/evaluation/ccc.h"

namespace avf {
namespace {

TEST(Ccc, IdenticalSeriesIsOne) {
  std::vector<double> y{0.3, -0.1, 0.7, 0.2, -0.4};
  EXPECT_NEAR(ccc(y, y), 1.0, 1e-15);
}

TEST(Ccc, NegatedZeroMeanSeriesIsMinusOne) {
  // y has mean 0: cov(y, −y) = −σ², so CCC = −2σ² / (σ² + σ² + 0) = −1.
  std::vector<double> y{1, -2, 3, -2}, neg{-1, 2, -3, 2};
  EXPECT_NEAR(ccc(y, neg), -1.0, 1e-15);
}

TEST(Ccc, NegatedSeriesWithMeanIsScaledByMeanGap) {
  // y = {1,2,3,4}: μ = 2.5, σ² = 1.25. Against −y: −2σ² / (2σ² + (2μ)²) = −2.5 / (2.5 + 25).
  std::vector<double> y{1, 2, 3, 4}, neg{-1, -2, -3, -4};
  EXPECT_NEAR(ccc(neg, y), -2.5 / 27.5, 1e-15);
}

TEST(Ccc, ConstantShiftLowersItByTheSquaredGap) {
  // x = y + c: σxy = σ², so CCC = 2σ² / (2σ² + c²) = 2.5 / (2.5 + c²) for y = {1,2,3,4}.
  std::vector<double> y{1, 2, 3, 4};
  for (double c : {0.5, 1.0, 3.0}) {
    std::vector<double> x;
    for (double v : y) x.push_back(v + c);
    EXPECT_NEAR(ccc(x, y), 2.5 / (2.5 + c * c), 1e-15) << "shift " << c;
  }
}

TEST(Ccc, HandComputedPair) {
  // x = {1,2,3}, y = {2,2,5}: μx = 2, μy = 3, σx² = 2/3, σy² = 2, σxy = (−1·−1 + 0 + 1·2)/3 = 1.
  // CCC = 2 / (2/3 + 2 + 1) = 6/11.
  EXPECT_NEAR(ccc({1, 2, 3}, {2, 2, 5}), 6.0 / 11.0, 1e-15);
}

TEST(Ccc, NanLabelsAreSkipped) {
  double nan = std::nan("");
  EXPECT_NEAR(ccc({1, 2, 9, 3}, {2, 2, nan, 5}), 6.0 / 11.0, 1e-15);
  CccStats empty;
  empty.add(1.0, nan);
  EXPECT_EQ(empty.count(), 0);
  EXPECT_TRUE(std::isnan(empty.ccc()));
}

TEST(Ccc, ConstantEqualSeriesIsUndefined) { EXPECT_TRUE(std::isnan(ccc({2, 2}, {2, 2}))); }

std::pair<std::vector<double>, std::vector<double>> noisy_pairs(size_t n, double offset, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = offset + g(rng);
    x[i] = offset + 0.5 + 0.8 * (y[i] - offset) + 0.3 * g(rng);
  }
  return {x, y};
}

TEST(CccStats, MergeOfChunksEqualsWholeSeries) {
  auto [x, y] = noisy_pairs(10007, 0.0, 1);
  CccStats whole;
  whole.add(x, y);
  CccStats merged;
  for (size_t begin = 0, len = 1; begin < x.size(); begin += len, len = len * 3 % 997 + 1) {
    CccStats chunk;
    size_t n = std::min(len, x.size() - begin);
    chunk.add(x.data() + begin, y.data() + begin, n);
    merged.merge(chunk);
  }
  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_NEAR(merged.ccc(), whole.ccc(), 1e-12);
  EXPECT_NEAR(merged.var_x(), whole.var_x(), 1e-12);
  EXPECT_NEAR(merged.cov(), whole.cov(), 1e-12);
}

TEST(CccStats, LargeMeansDoNotCancel) {
  // Values near 1e8 with unit variance: raw Σx² would lose every significant digit of the variance.
  // 1e8 + u is subtracted exactly, so the offset-free series is the exact reference. What is left is
  // the float64 spacing of a mean near 1e8 (1.5e-8), hence the tolerance: naive sums are off by O(1).
  const double offset = 1e8;
  auto [x, y] = noisy_pairs(5000, offset, 2);
  std::vector<double> xc, yc;
  for (size_t i = 0; i < x.size(); ++i) {
    xc.push_back(x[i] - offset);
    yc.push_back(y[i] - offset);
  }
  CccStats merged;
  for (size_t i = 0; i < x.size(); i += 100) merged.add(x.data() + i, y.data() + i, 100);
  EXPECT_NEAR(merged.ccc(), ccc(xc, yc), 1e-8);
}

TEST(CccStats, SumsAboutACommonShiftAddUpAcrossParts) {
  // What an MPI_SUM all-reduce does: add the parts' shifted power sums element-wise.
  auto [x, y] = noisy_pairs(3000, 0.2, 3);
  CccStats a, b, whole;
  a.add(x.data(), y.data(), 1000);
  b.add(x.data() + 1000, y.data() + 1000, 2000);
  whole.add(x, y);
  auto sa = a.sums(0.1, 0.2), sb = b.sums(0.1, 0.2);
  CccStats::Sums total;
  for (size_t i = 0; i < total.size(); ++i) total[i] = sa[i] + sb[i];
  CccStats reduced = CccStats::from_sums(total, 0.1, 0.2);
  EXPECT_EQ(reduced.count(), 3000);
  EXPECT_NEAR(reduced.mean_y(), whole.mean_y(), 1e-12);
  EXPECT_NEAR(reduced.ccc(), whole.ccc(), 1e-12);
}

}  // namespace
}  // namespace avf
