// Whose face a frame's detections give for Aff-Wild2's two-person videos (<name>_left / <name>_right):
// the left- or right-most of the real faces, a lone face only on its side of the frame or where the
// person was, and the largest for everyone else.
#include <gtest/gtest.h>

#include "preprocess/face_side.h"

using namespace avf::pre;

namespace {

const cv::Rect2f kLeft(20, 30, 40, 40), kRight(200, 20, 44, 44), kSpeck(5, 5, 10, 10), kMiddle(110, 30, 36, 36);
const int kWidth = 320;

}  // namespace

TEST(FaceSide, LeftAndRightTakeTheOuterRealFacesInAnyOrder) {
  for (const auto& faces : {std::vector<cv::Rect2f>{kLeft, kRight, kMiddle, kSpeck},
                            std::vector<cv::Rect2f>{kSpeck, kMiddle, kRight, kLeft}}) {
    EXPECT_EQ(pick_face(faces, FaceSide::left, kWidth, std::nullopt), kLeft);  // the speck is a spurious detection
    EXPECT_EQ(pick_face(faces, FaceSide::right, kWidth, std::nullopt), kRight);
    EXPECT_EQ(pick_face(faces, FaceSide::largest, kWidth, std::nullopt), kRight);
  }
  EXPECT_FALSE(pick_face({}, FaceSide::left, kWidth, std::nullopt).has_value());
}

TEST(FaceSide, ALoneFaceCountsOnItsSideOfTheFrameOrWhereThePersonWas) {
  EXPECT_EQ(pick_face({kLeft}, FaceSide::left, kWidth, std::nullopt), kLeft);
  EXPECT_FALSE(pick_face({kLeft}, FaceSide::right, kWidth, std::nullopt).has_value());  // the other person alone
  EXPECT_EQ(pick_face({kRight}, FaceSide::right, kWidth, std::nullopt), kRight);
  EXPECT_FALSE(pick_face({kRight}, FaceSide::left, kWidth, std::nullopt).has_value());
  // The left person leaning past the middle is still theirs when the previous frame had them near.
  const cv::Rect2f leaning(170, 30, 40, 40);
  EXPECT_FALSE(pick_face({leaning}, FaceSide::left, kWidth, std::nullopt).has_value());
  EXPECT_EQ(pick_face({leaning}, FaceSide::left, kWidth, cv::Rect2f(150, 32, 40, 40)), leaning);
  EXPECT_FALSE(pick_face({leaning}, FaceSide::left, kWidth, kLeft).has_value());
}

TEST(FaceSide, ParsesTheSideOfAnAnnotation) {
  EXPECT_EQ(parse_face_side(""), FaceSide::largest);
  EXPECT_EQ(parse_face_side("left"), FaceSide::left);
  EXPECT_EQ(parse_face_side("right"), FaceSide::right);
  EXPECT_THROW(parse_face_side("middle"), std::invalid_argument);
}
