// Face detection, tracking and cropping: the largest face per frame from an OpenCV cascade (Haar or
// LBP, shipped by opencv-data) or a user's DNN model (YuNet ONNX via cv::FaceDetectorYN), the box
// smoothed over time, cropped square with a margin and resized.
#pragma once
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace avf::pre {

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Faces in a BGR frame, in frame pixels. `near`: where the face is expected (FaceSearch: the last
  // one moved by its motion); a cascade searches around it first (3x its side, 0.7x to 1.4x its
  // size, down to the cascade's 20 px even below min_face, so a face that shrinks is kept), several
  // times cheaper than the whole frame, and searches the whole frame only when nothing is found there.
  virtual std::vector<cv::Rect2f> detect(const cv::Mat& bgr, const std::optional<cv::Rect2f>& near) = 0;
  std::vector<cv::Rect2f> detect(const cv::Mat& bgr) { return detect(bgr, std::nullopt); }
};

// spec: "haar" | "lbp" (opencv-data's frontal-face cascades), a cascade .xml file or an .onnx
// face-detection model for cv::FaceDetectorYN. detect_width: frames wider than this are scaled down
// for detection (0 = never). min_face: the smallest face a cascade looks for, as a fraction of the
// frame's shorter side (the cascade's cost grows fast as it shrinks). Throws std::runtime_error when
// the model cannot be loaded. equalize: a cascade sees the histogram-equalised grey frame (OpenCV's
// samples do it; avf did until issue 14: it loses faces in contrasty footage such as Megamind.avi).
// neighbours: a cascade's minNeighbors, the overlapping hits a face needs (OpenCV's default 3; avf
// asked for 4 until issue 14, which lost small low-contrast faces such as two of LFW's 40).
std::unique_ptr<FaceDetector> make_face_detector(const std::string& spec, int detect_width, double min_face,
                                                 bool equalize = false, int neighbours = 3);

// The largest box; ties go to the top-left one so results never depend on detection order.
std::optional<cv::Rect2f> largest_face(const std::vector<cv::Rect2f>& faces);

// One video's search for its face, frame after frame: where the detector looks next. The hint is
// the last face moved by its measured motion (a face crossing the frame stays inside the window);
// the whole frame is searched when there is no face to follow and every `full_search_every` frames
// (0 = never), so a track stuck on a false detection, or a larger face entering elsewhere, is
// corrected within that many frames; when that search finds nothing (it looks no smaller than
// min-face) the window is searched as usual. One FaceSearch per video: it carries the video's motion.
class FaceSearch {
 public:
  // Which of a frame's detections is the video's face, given the frame's width and the face kept in
  // the previous frame: by default the largest (one person per video); face_side.h picks the left or
  // right person of two.
  using Choose = std::function<std::optional<cv::Rect2f>(const std::vector<cv::Rect2f>& faces, int frame_width,
                                                         const std::optional<cv::Rect2f>& previous)>;
  FaceSearch(FaceDetector& detector, int full_search_every, Choose choose = {})
      : detector_(detector), full_search_every_(full_search_every), choose_(std::move(choose)) {}
  // The video's face in this frame (what the pipeline keeps), or none.
  std::optional<cv::Rect2f> next(const cv::Mat& bgr);

 private:
  std::optional<cv::Rect2f> pick(const std::vector<cv::Rect2f>& faces, int frame_width) const {
    return choose_ ? choose_(faces, frame_width, last_) : largest_face(faces);
  }

  FaceDetector& detector_;
  int full_search_every_;
  Choose choose_;
  int since_full_ = 0;
  std::optional<cv::Rect2f> last_;
  cv::Point2f velocity_{0, 0};  // centre displacement per frame, over the last two detections
};

// Exponential smoothing of the box (centre and size) across frames with a face. A gap longer than
// `max_gap` frames restarts the track, so a face that reappears elsewhere is not dragged across.
class FaceTracker {
 public:
  FaceTracker(double smoothing, int max_gap) : smoothing_(smoothing), max_gap_(max_gap) {}
  // The box to crop for this frame: the smoothed one, else the last one, else none.
  std::optional<cv::Rect2f> update(const std::optional<cv::Rect2f>& detected);

 private:
  double smoothing_;  // weight of the previous box, 0 = no smoothing
  int max_gap_;
  int gap_ = 0;
  std::optional<cv::Rect2f> box_;
};

// A square crop of side max(w, h) * (1 + 2 * margin) centred on the box, black outside the frame,
// resized to size x size, returned as RGB (uint8, 3 channels).
cv::Mat crop_face(const cv::Mat& bgr, const cv::Rect2f& box, double margin, int size);

}  // namespace avf::pre
