#include "preprocess/face_recall.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <stdexcept>

#include "preprocess/face.h"
#include "preprocess/video.h"

namespace avf::pre {
namespace {

constexpr const char* kReferenceCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool is_image(const std::string& path) {
  for (const char* ext : {".png", ".jpg", ".jpeg", ".bmp"})
    if (path.size() > std::string(ext).size() && path.compare(path.size() - std::string(ext).size(), -1, ext) == 0)
      return true;
  return false;
}

}  // namespace

std::string FaceSetting::name() const {
  std::string s = fmt::format("{} w{} f{}", detector, detect_width, min_face);
  if (equalize) s += " eq";
  if (neighbours != 3) s += fmt::format(" n{}", neighbours);
  if (!track) return s + " untracked";
  return full_search_every > 0 ? fmt::format("{} full/{}", s, full_search_every) : s;
}

std::vector<cv::Mat> read_frames(const std::string& path, int64_t max_frames) {
  std::vector<cv::Mat> frames;
  if (is_image(path)) {
    cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
    if (img.empty()) throw std::runtime_error(fmt::format("{}: cannot read the image", path));
    frames.push_back(img);
    return frames;
  }
  ResampledVideo video(path, probe_video(path).fps);
  cv::Mat frame;
  while ((max_frames <= 0 || int64_t(frames.size()) < max_frames) && video.next(frame))
    frames.push_back(frame.clone());  // next() reuses its buffer
  return frames;
}

bool same_face(const cv::Rect2f& ours, const cv::Rect2f& reference) {
  const float inter = (ours & reference).area();
  const float iou = inter / (ours.area() + reference.area() - inter);
  const cv::Point2f centre(ours.x + ours.width / 2, ours.y + ours.height / 2);
  return iou >= 0.3f || reference.contains(centre);
}

RecallTable measure_recall(const std::vector<cv::Mat>& frames, const std::vector<FaceSetting>& settings, int stride) {
  RecallTable t;
  cv::CascadeClassifier reference;
  if (!reference.load(kReferenceCascade))
    throw std::runtime_error(
        fmt::format("{}: cannot load the reference cascade (Debian: opencv-data)", kReferenceCascade));
  std::vector<std::unique_ptr<FaceDetector>> detectors;
  std::vector<FaceSearch> searches;
  for (const auto& s : settings) {
    detectors.push_back(make_face_detector(s.detector, s.detect_width, s.min_face, s.equalize, s.neighbours));
    // Untracked: a fresh whole-frame search in every frame (interval 1).
    searches.emplace_back(*detectors.back(), s.track ? s.full_search_every : 1);
  }
  t.rows.resize(settings.size());
  t.reference.boxes.resize(frames.size());
  t.reference.evaluated.resize(frames.size());
  cv::Mat grey;
  for (size_t i = 0; i < frames.size(); ++i) {
    const bool evaluate = i % size_t(std::max(1, stride)) == 0;
    if (evaluate) {
      const auto start = std::chrono::steady_clock::now();
      cv::cvtColor(frames[i], grey, cv::COLOR_BGR2GRAY);
      reference.detectMultiScale(grey, t.reference.boxes[i]);
      t.reference.seconds += seconds_since(start);
      t.reference.evaluated[i] = true;
    }
    const auto& ref = t.reference.boxes[i];
    for (size_t k = 0; k < settings.size(); ++k) {
      RecallRow& row = t.rows[k];
      const auto start = std::chrono::steady_clock::now();
      const auto face = searches[k].next(frames[i]);
      row.seconds += seconds_since(start);
      ++row.frames;
      row.found += face.has_value();
      if (!evaluate || ref.empty()) continue;
      ++row.reference_frames;
      for (const auto& r : ref)
        if (face && same_face(*face, cv::Rect2f(r))) {
          ++row.matched;
          break;
        }
    }
  }
  return t;
}

}  // namespace avf::pre
