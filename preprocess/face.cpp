#include "preprocess/face.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <stdexcept>
#include <tuple>

namespace avf::pre {
namespace {

constexpr const char* kCascadeDir = "/usr/share/opencv4";
constexpr int kCascadeWindow = 20;  // the smallest face asked for (both frontal cascades scan 24 px windows anyway)

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shared by both detectors: detection runs on a copy no wider than detect_width.
class ScaledDetector : public FaceDetector {
 public:
  explicit ScaledDetector(int detect_width) : detect_width_(detect_width) {}
  using FaceDetector::detect;
  std::vector<cv::Rect2f> detect(const cv::Mat& bgr, const std::optional<cv::Rect2f>& near) override {
    const float scale = detect_width_ > 0 && bgr.cols > detect_width_ ? float(detect_width_) / bgr.cols : 1.0f;
    cv::Mat small = bgr;
    if (scale != 1.0f) cv::resize(bgr, small, cv::Size(), scale, scale, cv::INTER_AREA);
    std::optional<cv::Rect2f> near_small;
    if (near) near_small = cv::Rect2f(near->x * scale, near->y * scale, near->width * scale, near->height * scale);
    std::vector<cv::Rect2f> faces = detect_scaled(small, near_small);
    for (auto& f : faces) f = cv::Rect2f(f.x / scale, f.y / scale, f.width / scale, f.height / scale);
    return faces;
  }

 protected:
  virtual std::vector<cv::Rect2f> detect_scaled(const cv::Mat& bgr, const std::optional<cv::Rect2f>& near) = 0;

 private:
  int detect_width_;
};

class CascadeDetector : public ScaledDetector {
 public:
  CascadeDetector(const std::string& file, int detect_width, double min_face, bool equalize, int neighbours)
      : ScaledDetector(detect_width), min_face_(min_face), equalize_(equalize), neighbours_(neighbours) {
    if (!cascade_.load(file)) throw std::runtime_error(fmt::format("{}: cannot load the face cascade", file));
  }

 protected:
  std::vector<cv::Rect2f> detect_scaled(const cv::Mat& bgr, const std::optional<cv::Rect2f>& near) override {
    cv::cvtColor(bgr, gray_, cv::COLOR_BGR2GRAY);
    if (equalize_) cv::equalizeHist(gray_, gray_);
    const int min_side = std::max(kCascadeWindow, int(std::min(gray_.cols, gray_.rows) * min_face_));
    std::vector<cv::Rect> found;
    if (near) {
      const float side = std::max(near->width, near->height);
      const cv::Point2f c(near->x + near->width / 2, near->y + near->height / 2);
      const cv::Rect roi = cv::Rect(int(std::lround(c.x - 1.5f * side)), int(std::lround(c.y - 1.5f * side)),
                                    int(std::lround(3 * side)), int(std::lround(3 * side))) &
                           cv::Rect(0, 0, gray_.cols, gray_.rows);
      // Not bounded by min_side: in a window this small a face tracked as it shrinks costs little.
      const int lo = std::max(kCascadeWindow, int(0.7f * side)), hi = int(1.4f * side) + 1;
      if (roi.width >= lo && roi.height >= lo) {
        found = confirmed(gray_(roi), cv::Size(lo, lo), cv::Size(hi, hi));
        for (auto& f : found) f += roi.tl();
      }
    }
    if (found.empty()) found = confirmed(gray_, cv::Size(min_side, min_side), cv::Size());
    return {found.begin(), found.end()};
  }

 private:
  // The cascade's faces confirmed by more than `neighbours_` overlapping hits; when one of them has
  // more than that plus one, only those. Asking for 4 neighbours loses small, low-contrast faces
  // (two of LFW's 40) that the reference's 3 keep, but 3 alone takes weak background hits, which a
  // whole-frame search then prefers over a smaller real face (the largest wins); one cascade pass
  // gives both, since the hit counts come with the boxes.
  std::vector<cv::Rect> confirmed(const cv::Mat& gray, cv::Size min_size, cv::Size max_size) {
    std::vector<cv::Rect> found;
    std::vector<int> hits;
    cascade_.detectMultiScale(gray, found, hits, 1.1, neighbours_, 0, min_size, max_size);
    const bool strong = std::any_of(hits.begin(), hits.end(), [&](int n) { return n > neighbours_ + 1; });
    if (!strong) return found;
    std::vector<cv::Rect> kept;
    for (size_t i = 0; i < found.size(); ++i)
      if (hits[i] > neighbours_ + 1) kept.push_back(found[i]);
    return kept;
  }

  cv::CascadeClassifier cascade_;
  double min_face_;
  bool equalize_;
  int neighbours_;
  cv::Mat gray_;
};

class YuNetDetector : public ScaledDetector {
 public:
  YuNetDetector(const std::string& model, int detect_width) : ScaledDetector(detect_width) {
    try {
      net_ = cv::FaceDetectorYN::create(model, "", cv::Size(320, 320), 0.6f);
    } catch (const cv::Exception& e) {
      throw std::runtime_error(fmt::format("{}: cannot load the face detection model ({})", model, e.what()));
    }
  }

 protected:
  // The network sees the whole frame at once; a hint would not make it cheaper.
  std::vector<cv::Rect2f> detect_scaled(const cv::Mat& bgr, const std::optional<cv::Rect2f>&) override {
    net_->setInputSize(bgr.size());
    cv::Mat rows;
    net_->detect(bgr, rows);
    std::vector<cv::Rect2f> faces;
    for (int i = 0; i < rows.rows; ++i)
      faces.emplace_back(rows.at<float>(i, 0), rows.at<float>(i, 1), rows.at<float>(i, 2), rows.at<float>(i, 3));
    return faces;
  }

 private:
  cv::Ptr<cv::FaceDetectorYN> net_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_face_detector(const std::string& spec, int detect_width, double min_face,
                                                 bool equalize, int neighbours) {
  if (neighbours < 1) throw std::runtime_error(fmt::format("--face-neighbours {}: expected at least 1", neighbours));
  if (spec == "haar")
    return std::make_unique<CascadeDetector>(
        fmt::format("{}/haarcascades/haarcascade_frontalface_default.xml", kCascadeDir), detect_width, min_face,
        equalize, neighbours);
  if (spec == "lbp")
    return std::make_unique<CascadeDetector>(
        fmt::format("{}/lbpcascades/lbpcascade_frontalface_improved.xml", kCascadeDir), detect_width, min_face,
        equalize, neighbours);
  if (ends_with(spec, ".xml"))
    return std::make_unique<CascadeDetector>(spec, detect_width, min_face, equalize, neighbours);
  if (ends_with(spec, ".onnx")) return std::make_unique<YuNetDetector>(spec, detect_width);
  throw std::runtime_error(
      fmt::format("--face-detector '{}': expected haar, lbp, a cascade .xml file or a YuNet .onnx model", spec));
}

std::optional<cv::Rect2f> largest_face(const std::vector<cv::Rect2f>& faces) {
  std::optional<cv::Rect2f> best;
  for (const auto& f : faces) {
    const auto key = [](const cv::Rect2f& r) { return std::make_tuple(r.area(), -r.y, -r.x); };
    if (!best || key(f) > key(*best)) best = f;
  }
  return best;
}

std::optional<cv::Rect2f> FaceSearch::next(const cv::Mat& bgr) {
  std::optional<cv::Rect2f> hint;
  if (last_) hint = *last_ + velocity_;
  const bool periodic = hint && full_search_every_ > 0 && since_full_ + 1 >= full_search_every_;
  std::optional<cv::Rect2f> face;
  if (periodic) {
    face = pick(detector_.detect(bgr), bgr.cols);
    // The whole frame looks no smaller than min-face: a followed face below it is still in the window.
    if (!face) face = pick(detector_.detect(bgr, hint), bgr.cols);
  } else {
    face = pick(detector_.detect(bgr, hint), bgr.cols);
  }
  since_full_ = periodic || !hint ? 0 : since_full_ + 1;
  if (face && last_) {
    const auto centre = [](const cv::Rect2f& r) { return cv::Point2f(r.x + r.width / 2, r.y + r.height / 2); };
    velocity_ = centre(*face) - centre(*last_);
  } else {
    velocity_ = {0, 0};
  }
  last_ = face;
  return face;
}

std::optional<cv::Rect2f> FaceTracker::update(const std::optional<cv::Rect2f>& detected) {
  if (!detected) {
    ++gap_;
    return box_;
  }
  if (!box_ || gap_ > max_gap_) {
    box_ = detected;
  } else {
    const double a = smoothing_;
    const cv::Point2f c0(box_->x + box_->width / 2, box_->y + box_->height / 2);
    const cv::Point2f c1(detected->x + detected->width / 2, detected->y + detected->height / 2);
    const float w = float(a * box_->width + (1 - a) * detected->width);
    const float h = float(a * box_->height + (1 - a) * detected->height);
    const float cx = float(a * c0.x + (1 - a) * c1.x), cy = float(a * c0.y + (1 - a) * c1.y);
    box_ = cv::Rect2f(cx - w / 2, cy - h / 2, w, h);
  }
  gap_ = 0;
  return box_;
}

cv::Mat crop_face(const cv::Mat& bgr, const cv::Rect2f& box, double margin, int size) {
  const int side = std::max(1, int(std::lround(std::max(box.width, box.height) * (1 + 2 * margin))));
  const cv::Rect square(int(std::lround(box.x + box.width / 2.0 - side / 2.0)),
                        int(std::lround(box.y + box.height / 2.0 - side / 2.0)), side, side);
  // Pixels of the square outside the frame stay black.
  cv::Mat canvas(side, side, bgr.type(), cv::Scalar::all(0));
  const cv::Rect inside = square & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (!inside.empty()) bgr(inside).copyTo(canvas(inside - square.tl()));
  cv::Mat crop;
  cv::resize(canvas, crop, cv::Size(size, size), 0, 0, side > size ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
  return crop;
}

}  // namespace avf::pre
