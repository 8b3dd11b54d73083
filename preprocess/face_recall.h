// How many of a reference detector's faces avf's face search finds, and at what cost: the measure
// behind the detector defaults (tools/bench_faces, the README's trade-off table, test_face_recall).
// The reference is OpenCV's plain frontal Haar cascade with detectMultiScale's defaults on the
// full-resolution grey frame, the detector most users would reach for first.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace avf::pre {

// One candidate: the knobs of Params that decide detection.
struct FaceSetting {
  std::string detector = "haar";  // make_face_detector's spec
  int detect_width = 640;
  double min_face = 0.2;
  int full_search_every = 0;  // FaceSearch's interval (0 = only when no face is followed)
  bool track = true;          // false: every frame searched whole (no hint from the previous frame)
  bool equalize = false;      // make_face_detector's equalize
  int neighbours = 3;         // make_face_detector's neighbours
  std::string name() const;   // e.g. "haar w640 f0.2 full/25"
};

// A clip's frames: a video (decoded with ResampledVideo at its own frame rate) or an image (one
// frame). max_frames > 0 keeps only the first ones.
std::vector<cv::Mat> read_frames(const std::string& path, int64_t max_frames = 0);

// The reference's faces per frame (empty for frames not in every `stride`-th).
struct ReferenceFaces {
  std::vector<std::vector<cv::Rect>> boxes;
  std::vector<bool> evaluated;  // frames the reference ran on
  double seconds = 0;           // its detection time over those frames
};

// Ours counts as the reference's face when IoU >= 0.3 or its centre lies inside the reference box
// (the cascades draw boxes of different tightness around the same face).
bool same_face(const cv::Rect2f& ours, const cv::Rect2f& reference);

struct RecallRow {
  int64_t frames = 0;            // frames the setting ran on (all of the clip)
  int64_t reference_frames = 0;  // evaluated frames where the reference found a face
  int64_t matched = 0;           // of those, frames where our face is one of the reference's
  int64_t found = 0;             // frames where we found a face (any)
  double seconds = 0;            // our detection time over all frames
  double recall() const { return reference_frames ? double(matched) / reference_frames : 1.0; }
};

// The reference and every setting over the same frames, interleaved frame by frame so that a
// machine's changing load weighs on all of them alike. The reference runs on every `stride`-th
// frame (it is slow: recall is counted there), the settings on every frame (tracking needs them).
struct RecallTable {
  ReferenceFaces reference;
  std::vector<RecallRow> rows;  // in the order of `settings`
};
RecallTable measure_recall(const std::vector<cv::Mat>& frames, const std::vector<FaceSetting>& settings,
                           int stride = 1);

}  // namespace avf::pre
