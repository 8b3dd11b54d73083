// The detector defaults against a plain OpenCV reference on real footage (preprocess/face_recall.h):
// on OpenCV's Megamind.avi the default settings must find at least 98% of the frames where the plain
// Haar cascade (detectMultiScale's defaults, full resolution) finds a face, on clips of a real
// face moving fast or shrinking small (tools/make-face-clips) the search window must not lose it, and
// of LFW's small faces of many people the whole-frame search must find as many as the reference.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "preprocess/face.h"
#include "preprocess/face_recall.h"
#include "preprocess/params.h"
#include "run_command.h"

using namespace avf::pre;
namespace fs = std::filesystem;

namespace {

const std::string kMegamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

FaceSetting default_setting() {
  const Params p;
  FaceSetting s;
  s.detector = p.face_detector;
  s.detect_width = p.detect_width;
  s.min_face = p.min_face;
  s.full_search_every = p.full_search_every;
  s.equalize = p.equalize;
  s.neighbours = p.face_neighbours;
  return s;
}

// Clips made once per test binary run (a few seconds of python).
const std::string& face_clips() {
  static const std::string dir = [] {
    const std::string d = make_temp_dir("avf-face-clips");
    const auto r = run_command(std::string(AVF_SOURCE_DIR) + "/tools/make-face-clips " + d);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d;
  }();
  return dir;
}

// Recall of the default settings relative to the reference's, with what a failure should show.
void expect_default_recall(const std::string& clip, int stride, double at_least) {
  const auto frames = read_frames(clip);
  ASSERT_FALSE(frames.empty()) << clip;
  const auto t = measure_recall(frames, {default_setting()}, stride);
  const RecallRow& r = t.rows[0];
  std::printf("%s: %s matched %lld of %lld reference frames (recall %.3f)\n", clip.c_str(),
              default_setting().name().c_str(), (long long)r.matched, (long long)r.reference_frames, r.recall());
  ASSERT_GE(r.reference_frames, 25) << clip << ": the reference should find faces in most frames";
  EXPECT_GE(r.recall(), at_least) << clip << ": " << default_setting().name() << " matched " << r.matched << " of the "
                                  << r.reference_frames << " frames where the reference finds a face";
}

}  // namespace

// The issue that set the defaults: min-face 0.2 found a face in 88% of Megamind's frames where the
// reference finds one in 99%. The reference runs on every 3rd frame (it costs ~10x the default).
TEST(FaceRecall, DefaultsKeep98PercentOfTheReferenceOnMegamind) {
  if (!fs::exists(kMegamind)) GTEST_SKIP() << kMegamind << " is missing: install Debian's opencv-doc";
  expect_default_recall(kMegamind, 3, 0.98);
}

// A face crossing the frame at half its side per frame and jumping twice: the search window follows
// its motion and the whole-frame search finds it after a jump.
TEST(FaceRecall, AFastFaceIsNotLostByTheSearchWindow) { expect_default_recall(face_clips() + "/fast.mp4", 5, 0.98); }

// A face shrinking to 0.06 of the frame's height, below the default min-face: once followed, the
// search window keeps it (its size bound is the cascade's window, not min-face).
TEST(FaceRecall, AFaceShrinkingBelowMinFaceIsKept) { expect_default_recall(face_clips() + "/small.mp4", 5, 0.98); }

// 40 LFW faces of 40-110 px, each at a new place for 4 frames; the reference on every 4th frame sees each
// face once. Asking the cascade for 4 neighbours instead of the reference's 3 lost two of them.
TEST(FaceRecall, SmallFacesOfManyPeopleAreFoundAsByTheReference) {
  expect_default_recall(face_clips() + "/lfw.mp4", 4, 0.98);
}

// Frame 50 of the shrinking clip: her face (about 52 px, centred near (410, 180): make-face-clips'
// small_clip) is confirmed by ~17 overlapping cascade hits, a patch of the building (98 px, lower
// right) by 4. Asked for 3 neighbours alone, the cascade returns both and the largest, the building,
// would become the video's face; faces with more than 4 hits come first.
TEST(FaceRecall, AWeakBackgroundHitIsNotPreferredToAConfirmedFace) {
  const auto frames = read_frames(face_clips() + "/small.mp4", 51);
  ASSERT_EQ(frames.size(), 51u);
  const Params p;
  auto detector = make_face_detector(p.face_detector, p.detect_width, p.min_face, p.equalize, p.face_neighbours);
  const auto face = largest_face(detector->detect(frames[50]));
  ASSERT_TRUE(face.has_value());
  const cv::Point2f centre(face->x + face->width / 2, face->y + face->height / 2);
  EXPECT_LT(cv::norm(centre - cv::Point2f(410, 180)), 30) << "face at " << centre << ", side " << face->width;
  EXPECT_LT(face->width, 80);
}

TEST(FaceRecall, SameFaceIsOverlapOrCentreInside) {
  EXPECT_TRUE(same_face({0, 0, 10, 10}, {2, 2, 10, 10}));     // IoU 0.47
  EXPECT_TRUE(same_face({0, 0, 40, 40}, {15, 15, 10, 10}));   // our centre inside a smaller box
  EXPECT_FALSE(same_face({0, 0, 10, 10}, {8, 8, 10, 10}));    // a corner in common
  EXPECT_FALSE(same_face({0, 0, 10, 10}, {50, 50, 10, 10}));  // elsewhere
}
