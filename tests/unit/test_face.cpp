// Face detection and cropping on a generated frame: scikit-image's astronaut photo pasted at a known
// place gives a box around her face, the crop is centred on it, and the tracker smooths and restarts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "preprocess/face.h"
#include "preprocess/params.h"
#include "run_command.h"

using namespace avf::pre;

namespace {

const char* kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
// Her face in the 512x512 photo, annotated by eye on a 10-pixel grid (not by any detector): cheek to cheek
// x 175..268, hairline to chin y 75..183 (eyes at y 102, x 202 and 247). A detector's box, which usually
// starts at the brows and ends at the lips, overlaps it with IoU about 0.7.
const cv::Rect2f kFaceInPhoto(175, 75, 93, 108);

// The photo scaled by `scale` and pasted at `at` on a grey 640x480 frame; returns the expected face box.
cv::Rect2f make_frame(cv::Mat& frame, cv::Point at, double scale) {
  const cv::Mat photo = cv::imread(kAstronaut, cv::IMREAD_COLOR);
  EXPECT_FALSE(photo.empty()) << kAstronaut;
  cv::Mat scaled;
  cv::resize(photo, scaled, cv::Size(), scale, scale, cv::INTER_AREA);
  frame = cv::Mat(480, 640, CV_8UC3, cv::Scalar(90, 90, 90));
  scaled.copyTo(frame(cv::Rect(at, scaled.size())));
  return {float(at.x + kFaceInPhoto.x * scale), float(at.y + kFaceInPhoto.y * scale), float(kFaceInPhoto.width * scale),
          float(kFaceInPhoto.height * scale)};
}

double iou(const cv::Rect2f& a, const cv::Rect2f& b) { return (a & b).area() / (a | b).area(); }

}  // namespace

class FaceDetectors : public ::testing::TestWithParam<const char*> {};

TEST_P(FaceDetectors, FindTheFaceWherePasted) {
  cv::Mat frame;
  const cv::Rect2f expected = make_frame(frame, {260, 150}, 0.6);
  auto detector = make_face_detector(GetParam(), 640, 0.1);
  const auto face = largest_face(detector->detect(frame));
  ASSERT_TRUE(face.has_value());
  EXPECT_GT(iou(*face, expected), 0.5) << face->x << "," << face->y << " " << face->width << "x" << face->height;
}

INSTANTIATE_TEST_SUITE_P(HaarAndLbp, FaceDetectors, ::testing::Values("haar", "lbp"));

TEST(FaceDetector, AHintFromThePreviousFrameFindsTheSameFaceAndAWrongOneFallsBack) {
  cv::Mat frame;
  const cv::Rect2f expected = make_frame(frame, {200, 120}, 0.7);
  // Equalised: without it the cascade finds a larger false face right of hers in this frame, and the
  // fallback would return that one (the pipeline keeps the largest).
  auto detector = make_face_detector("haar", 640, 0.1, true);
  const auto moved = cv::Rect2f(expected.x + 8, expected.y - 5, expected.width * 1.1f, expected.height * 1.1f);
  const auto near = largest_face(detector->detect(frame, moved));
  ASSERT_TRUE(near.has_value());
  EXPECT_GT(iou(*near, expected), 0.5);
  const auto far = largest_face(detector->detect(frame, cv::Rect2f(0, 0, 30, 30)));  // nothing there
  ASSERT_TRUE(far.has_value());
  EXPECT_GT(iou(*far, expected), 0.5);
}

TEST(FaceDetector, ScalesWideFramesDownAndBoxesBackUp) {
  cv::Mat frame;
  const cv::Rect2f expected = make_frame(frame, {100, 40}, 0.8);
  auto detector = make_face_detector("haar", 320, 0.1);  // detection at half size
  const auto face = largest_face(detector->detect(frame));
  ASSERT_TRUE(face.has_value());
  EXPECT_GT(iou(*face, expected), 0.5);
}

TEST(FaceDetector, NoFaceInAnEmptyFrameAndBadSpecsAreNamed) {
  auto detector = make_face_detector("haar", 0, 0.1);
  EXPECT_TRUE(detector->detect(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(40))).empty());
  try {
    make_face_detector("mtcnn", 0, 0.1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "--face-detector 'mtcnn': expected haar, lbp, a cascade .xml file or a YuNet .onnx model");
  }
  EXPECT_THROW(make_face_detector("/nonexistent.xml", 0, 0.1), std::runtime_error);
}

TEST(FaceDetector, ABrokenDnnModelIsNamed) {
  const std::string dir = make_temp_dir("avf-face");
  write_file(dir + "/yunet.onnx", "not an onnx model");
  try {
    make_face_detector(dir + "/yunet.onnx", 0, 0.1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir + "/yunet.onnx: cannot load the face detection model (", 0), 0u)
        << e.what();
  }
}

TEST(FaceCrop, IsSquareResizedRgbCentredOnTheBoxWithBlackOutside) {
  cv::Mat frame(100, 100, CV_8UC3, cv::Scalar(255, 0, 0));       // blue in BGR
  frame(cv::Rect(40, 40, 20, 20)).setTo(cv::Scalar(0, 0, 255));  // a red square
  // Box = the red square; margin 0.5 -> a 40x40 crop from (30,30): red in the middle half.
  const cv::Mat crop = crop_face(frame, cv::Rect2f(40, 40, 20, 20), 0.5, 16);
  ASSERT_EQ(crop.size(), cv::Size(16, 16));
  EXPECT_EQ(crop.at<cv::Vec3b>(8, 8), cv::Vec3b(255, 0, 0));  // red, now in RGB order
  EXPECT_EQ(crop.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 255));  // the blue surround
  // A box at the frame's corner: the part of the square outside the frame is black.
  const cv::Mat corner = crop_face(frame, cv::Rect2f(0, 0, 20, 20), 0.5, 16);
  EXPECT_EQ(corner.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(corner.at<cv::Vec3b>(15, 15), cv::Vec3b(0, 0, 255));
}

TEST(FaceTracker, SmoothsHoldsThroughShortGapsAndRestartsAfterLongOnes) {
  FaceTracker t(0.5, 2);
  EXPECT_FALSE(t.update(std::nullopt).has_value());
  EXPECT_EQ(*t.update(cv::Rect2f(0, 0, 10, 10)), cv::Rect2f(0, 0, 10, 10));
  EXPECT_EQ(*t.update(cv::Rect2f(10, 0, 10, 10)), cv::Rect2f(5, 0, 10, 10));  // halfway
  EXPECT_EQ(*t.update(std::nullopt), cv::Rect2f(5, 0, 10, 10));               // held
  t.update(std::nullopt);
  t.update(std::nullopt);  // gap of 3 > 2
  EXPECT_EQ(*t.update(cv::Rect2f(100, 100, 20, 20)), cv::Rect2f(100, 100, 20, 20));
}

TEST(LargestFace, PicksTheBiggestAndBreaksTiesByPosition) {
  EXPECT_EQ(*largest_face({{0, 0, 5, 5}, {50, 50, 9, 9}, {10, 10, 7, 7}}), cv::Rect2f(50, 50, 9, 9));
  EXPECT_EQ(*largest_face({{30, 0, 5, 5}, {10, 0, 5, 5}}), cv::Rect2f(10, 0, 5, 5));
  EXPECT_EQ(*largest_face({{10, 0, 5, 5}, {30, 0, 5, 5}}), cv::Rect2f(10, 0, 5, 5));
  EXPECT_FALSE(largest_face({}).has_value());
}

// A track on a small face, then a larger face enters elsewhere: the search window keeps finding the
// small one, so only the periodic whole-frame search moves to the larger (the face the pipeline keeps).
TEST(FaceSearch, AWholeFrameSearchEveryNFramesFindsALargerFaceThatEntered) {
  cv::Mat small_only, big;
  const cv::Rect2f small = make_frame(small_only, {0, 200}, 0.5);
  const cv::Rect2f large = make_frame(big, {250, 20}, 0.75);
  cv::Mat both = small_only.clone();
  big(cv::Rect(250, 20, 384, 384)).copyTo(both(cv::Rect(250, 20, 384, 384)));
  auto detector = make_face_detector("haar", 640, 0.05);
  for (int every : {0, 4}) {
    FaceSearch search(*detector, every);
    const auto first = search.next(small_only);
    ASSERT_TRUE(first.has_value());
    EXPECT_GT(iou(*first, small), 0.5);
    std::optional<cv::Rect2f> last;
    for (int i = 0; i < 4; ++i) last = search.next(both);
    ASSERT_TRUE(last.has_value());
    if (every == 0)
      EXPECT_GT(iou(*last, small), 0.5) << "without whole-frame searches the window stays on the small face";
    else
      EXPECT_GT(iou(*last, large), 0.5) << "a whole-frame search within " << every << " frames finds the larger face";
  }
}

// The astronaut's head (photo x 130..310, y 30..220) scaled by `scale` and centred at `centre` on a
// grey 640x480 frame; returns the expected face box.
static cv::Rect2f make_head_frame(cv::Mat& frame, cv::Point2f centre, double scale) {
  const cv::Mat photo = cv::imread(kAstronaut, cv::IMREAD_COLOR);
  cv::Mat head;
  cv::resize(photo(cv::Rect(130, 30, 180, 190)), head, cv::Size(), scale, scale, cv::INTER_AREA);
  frame = cv::Mat(480, 640, CV_8UC3, cv::Scalar(90, 90, 90));
  const cv::Point at(int(centre.x - head.cols / 2), int(centre.y - head.rows / 2));
  head.copyTo(frame(cv::Rect(at, head.size())));
  return {float(at.x + (kFaceInPhoto.x - 130) * scale), float(at.y + (kFaceInPhoto.y - 30) * scale),
          float(kFaceInPhoto.width * scale), float(kFaceInPhoto.height * scale)};
}

// A face moving more than its side per frame while it shrinks below min-face (0.15 of 480 = 72 px):
// after two frames the whole-frame search can no longer find it, only the window can, and only if
// it is centred where the face's motion puts it and looks below min-face.
TEST(FaceSearch, FollowsAFaceMovingFastAndShrinkingBelowMinFace) {
  auto detector = make_face_detector("haar", 640, 0.15);
  FaceSearch search(*detector, 0);
  const double scales[] = {0.9, 0.9, 0.8, 0.7, 0.6};  // face 84, 84, 74, 65, 56 px wide
  for (int i = 0; i < 5; ++i) {
    cv::Mat frame;
    const cv::Rect2f expected = make_head_frame(frame, {90.0f + 120 * i, 240}, scales[i]);
    const auto face = search.next(frame);
    ASSERT_TRUE(face.has_value()) << "frame " << i;
    EXPECT_GT(iou(*face, expected), 0.5) << "frame " << i;
  }
}

// Shards preprocessed before issue 14 equalised the histogram, searched whole frames only when the
// face was lost and asked the cascade for 4 neighbours; their recorded parameters read back that way, so `avf predict`
// matches them.
TEST(FaceParams, OlderParametersReadBackAsTheyWereDetected) {
  Params p;
  auto j = nlohmann::json::parse(p.to_json());
  EXPECT_EQ(j.at("equalize"), false);
  EXPECT_EQ(j.at("full_search_every"), p.full_search_every);
  EXPECT_EQ(j.at("face_neighbours"), 3);
  j.erase("equalize");
  j.erase("full_search_every");
  j.erase("face_neighbours");
  const Params old = Params::from_json(j.dump(), "test");
  EXPECT_TRUE(old.equalize);
  EXPECT_EQ(old.full_search_every, 0);
  EXPECT_EQ(old.face_neighbours, 4);
  const Params same = Params::from_json(p.to_json(), "test");
  EXPECT_EQ(same.to_json(), p.to_json());
}
