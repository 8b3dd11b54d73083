// Each post-processing step against hand-computed series, and the fit recovering a planted chain.
#include <gtest/gtest.h>

#include <cmath>

#include "core/evaluation/ccc.h"
#include "core/evaluation/postprocess.h"

namespace avf {
namespace {

using V = std::vector<double>;

TEST(MedianFilter, CentredWindowTruncatedAtTheEnds) {
  // Window 3: t=0 sees {5,1} → 3; t=1 {5,1,4} → 4; t=2 {1,4,2} → 2; t=3 {4,2,8} → 4; t=4 {2,8} → 5.
  EXPECT_EQ(median_filter({5, 1, 4, 2, 8}, 3), (V{3, 4, 2, 4, 5}));
  // Window 5 on the same series: {5,1,4} → 4; {5,1,4,2} → 3; all five → 4; {1,4,2,8} → 3; {4,2,8} → 4.
  EXPECT_EQ(median_filter({5, 1, 4, 2, 8}, 5), (V{4, 3, 4, 3, 4}));
  EXPECT_EQ(median_filter({5, 1, 4}, 1), (V{5, 1, 4}));
  EXPECT_THROW(median_filter({1, 2}, 2), std::invalid_argument);
}

TEST(MedianFilter, RemovesSpikesShorterThanHalfTheWindow) {
  EXPECT_EQ(median_filter({0, 0, 0, 9, 9, 0, 0, 0}, 5), (V{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(median_filter({0, 0, 0, 9, 9, 0, 0, 0}, 3), (V{0, 0, 0, 9, 9, 0, 0, 0}));
}

TEST(Delay, ShiftsLaterAndPadsWithTheFirstValue) {
  EXPECT_EQ(delay({1, 2, 3, 4}, 0), (V{1, 2, 3, 4}));
  EXPECT_EQ(delay({1, 2, 3, 4}, 2), (V{1, 1, 1, 2}));
  EXPECT_EQ(delay({1, 2}, 5), (V{1, 1}));
}

TEST(Postprocess, CentringAndScalingAreFittedFromMeansAndStds) {
  // Predictions {1,2,3} (mean 2, std √(2/3)) against labels {2,4,6} (mean 4, std 2√(2/3)):
  // bias = 4 − 2 = 2, scale = 2, centre = 4, and the chain maps the predictions onto the labels.
  PostprocessSearch off{25, 1, 0, 1, 1, 0, 1};  // empty grids: only window 1, shift 0
  auto p = fit_postprocess({{{1, 2, 3}, {2, 4, 6}}}, off);
  EXPECT_EQ(p.window, 1);
  EXPECT_EQ(p.shift, 0);
  EXPECT_DOUBLE_EQ(p.bias, 2);
  EXPECT_DOUBLE_EQ(p.scale, 2);
  EXPECT_DOUBLE_EQ(p.center, 4);
  EXPECT_NEAR(p.fit_ccc, 1.0, 1e-15);
  // Applied elsewhere with the fitted numbers: 4 + 2·(x + 2 − 4).
  EXPECT_EQ(apply_postprocess({0, 3, 5}, p), (V{0, 6, 10}));
}

TEST(Postprocess, ApplyRunsFilterThenCentreScaleThenDelay) {
  PostprocessParams p;
  p.window = 3;
  p.bias = 1;
  p.scale = 0.5;
  p.center = 2;
  p.shift = 1;
  // median3 {5,1,4,2,8} = {3,4,2,4,5}; +1 → {4,5,3,5,6}; 2 + 0.5·(v − 2) → {3,3.5,2.5,3.5,4}; delay 1.
  EXPECT_EQ(apply_postprocess({5, 1, 4, 2, 8}, p), (V{3, 3, 3.5, 2.5, 3.5}));
}

// Labels: piecewise-constant levels in segments of 40 frames. Predictions: the labels 7 frames early
// (the annotators lag), at half scale and offset, with 2-frame spikes in the middle of segments.
// Only a median window ≥ 5 removes the spikes, and any window up to the segment length keeps the
// steps, so the gentlest perfect chain is window 5, shift 7.
Series planted(int seed) {
  const int n = 400, lead = 7;
  Series s;
  for (int t = 0; t < n; ++t) s.label.push_back(std::sin(seed + 3.0 * (t / 40)));
  for (int t = 0; t < n; ++t) {
    double spike = (t % 40 == 15 || t % 40 == 16) ? 5.0 : 0.0;
    s.prediction.push_back(0.5 * s.label[std::min(t + lead, n - 1)] + 0.3 + spike);
  }
  return s;
}

TEST(Postprocess, FitFindsPlantedWindowAndShift) {
  std::vector<Series> videos{planted(1), planted(2)};
  videos[1].label[100] = NAN;  // an unannotated frame takes no part
  PostprocessSearch search;
  search.min_window_s = 0.12;  // 3 frames at 25 fps
  search.max_window_s = 1.0;
  search.window_step_s = 0.08;
  search.max_shift_s = 1.0;
  auto p = fit_postprocess(videos, search);
  EXPECT_EQ(p.window, 5);
  EXPECT_EQ(p.shift, 7);
  EXPECT_NEAR(p.scale, 2.0, 0.05);
  EXPECT_GT(p.fit_ccc, 0.99);
  // Scored on another partition with the parameters fitted here, the chain lifts the CCC.
  Series other = planted(3);
  EXPECT_GT(ccc(apply_postprocess(other.prediction, p), other.label), 0.99);
  EXPECT_LT(ccc(other.prediction, other.label), 0.5);
}

}  // namespace
}  // namespace avf
