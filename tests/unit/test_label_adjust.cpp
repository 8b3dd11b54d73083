// Label adjustment (core/data/label_adjust.h) and sequence geometry (core/data/geometry.h), worked by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/data/geometry.h"
#include "core/data/label_adjust.h"

namespace avf {
namespace {

const std::vector<std::string> kTargets{"valence", "arousal"};

// Interleaves two columns into [n, 2] rows.
std::vector<float> rows(const std::vector<float>& valence, const std::vector<float>& arousal) {
  std::vector<float> out;
  for (size_t f = 0; f < valence.size(); ++f) out.push_back(valence[f]), out.push_back(arousal[f]);
  return out;
}

std::vector<float> column(const std::vector<float>& x, int t) {
  std::vector<float> out;
  for (size_t f = t; f < x.size(); f += 2) out.push_back(x[f]);
  return out;
}

TEST(LabelAdjust, ShiftMovesEachTargetByItsOwnDelayAndHoldsTheLastAnnotation) {
  auto x = rows({0, 1, 2, 3, 4, 5}, {10, 11, 12, 13, 14, 15});
  adjust_labels(x, 6, kTargets, 10.0, {{{"valence", 0.2}}, 0});  // 0.2 s at 10 fps: 2 frames
  EXPECT_EQ(column(x, 0), (std::vector<float>{2, 3, 4, 5, 5, 5}));
  EXPECT_EQ(column(x, 1), (std::vector<float>{10, 11, 12, 13, 14, 15}));  // no delay given: unchanged
  auto y = rows({0, 1, 2, 3, 4, 5}, {10, 11, 12, 13, 14, 15});
  adjust_labels(y, 6, kTargets, 25.0, {{{"valence", 0.04}, {"arousal", 0.1}}, 0});  // 1 and round(2.5) = 3 frames
  EXPECT_EQ(column(y, 0), (std::vector<float>{1, 2, 3, 4, 5, 5}));
  EXPECT_EQ(column(y, 1), (std::vector<float>{13, 14, 15, 15, 15, 15}));
}

TEST(LabelAdjust, MedianSkipsMissingFramesAndShrinksAtTheEdges) {
  auto x = rows({1, 9, 2, NAN, 4, 4}, {NAN, NAN, 3, NAN, NAN, NAN});
  adjust_labels(x, 6, kTargets, 25.0, {{}, 3});
  // valence windows: {1,9} {1,9,2} {9,2,-} {2,-,4} {-,4,4} {4,4}; an even count takes the middle pair's mean
  EXPECT_EQ(column(x, 0), (std::vector<float>{5, 2, 5.5, 3, 4, 4}));
  const auto a = column(x, 1);
  EXPECT_TRUE(std::isnan(a[0]));  // a window of missing frames stays missing
  EXPECT_EQ(a[1], 3);
  EXPECT_EQ(a[3], 3);
  EXPECT_TRUE(std::isnan(a[5]));
}

TEST(LabelAdjust, MedianComesBeforeTheShift) {
  // One-frame spikes away from the ends: the median removes them, so the shifted labels are all 0
  // (shifted first, the spike at frame 1 would survive the median at frame 0's window {10, 0}).
  auto x = rows({0, 10, 0, 0, 7, 0, 0}, {0, 0, 0, 0, 0, 0, 0});
  adjust_labels(x, 7, kTargets, 10.0, {{{"valence", 0.1}}, 3});
  EXPECT_EQ(column(x, 0), (std::vector<float>{0, 0, 0, 0, 0, 0, 0}));
  auto y = rows({0, 1, 2, 3, 4, 5}, {0, 0, 0, 0, 0, 0});
  adjust_labels(y, 6, kTargets, 10.0, {{{"valence", -0.1}}, 0});  // a negative delay moves the other way
  EXPECT_EQ(column(y, 0), (std::vector<float>{0, 0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace avf

// Sequence geometry at any stride (core/data/geometry.h), worked by hand: 40 frames, S = 16 (3
// sub-sequences, the last overlapping: frames 24..39), L = 2.
namespace avf {
namespace {

TEST(Geometry, TrainingStartsAtAnyStride) {
  // On the grid: sub-sequences 0 and 1 (a sequence 1..2 still has its L sub-sequences).
  EXPECT_EQ(geometry::training_starts(40, 16, 2, 16), (std::vector<int64_t>{0, 16}));
  // Every frame: offsets 0..8 after sub-sequence 0 (the second clip, 16 + o .. 31 + o, must end by
  // frame 39), then 16 on the grid; 17 and later would need a third sub-sequence past the end.
  EXPECT_EQ(geometry::training_starts(40, 16, 2, 1), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 16}));
  EXPECT_EQ(geometry::training_starts(40, 16, 2, 5), (std::vector<int64_t>{0, 5}));  // 10: 16 + 10 + 16 > 40
  EXPECT_EQ(geometry::training_starts(20, 16, 4, 3), (std::vector<int64_t>{0}));     // too short: one anyway
}

TEST(Geometry, ClipsStayInTheVideo) {
  EXPECT_EQ(geometry::clip_start(0, 5, 1, 40, 16), 21);
  EXPECT_EQ(geometry::clip_start(1, 0, 1, 40, 16), 24);  // the last sub-sequence overlaps its neighbour
  EXPECT_EQ(geometry::clip_start(1, 8, 5, 40, 16), 24);  // past the end: the last clip
}

}  // namespace
}  // namespace avf
