#include "preprocess/face_side.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "preprocess/face.h"

namespace avf::pre {

FaceSide parse_face_side(const std::string& text) {
  if (text.empty()) return FaceSide::largest;
  if (text == "left") return FaceSide::left;
  if (text == "right") return FaceSide::right;
  throw std::invalid_argument("face side '" + text + "': expected left, right or nothing");
}

std::optional<cv::Rect2f> pick_face(const std::vector<cv::Rect2f>& faces, FaceSide side, int frame_width,
                                    const std::optional<cv::Rect2f>& previous) {
  const auto largest = largest_face(faces);
  if (side == FaceSide::largest || !largest) return largest;
  constexpr float kMinAreaShare = 0.25f;
  auto centre_x = [](const cv::Rect2f& r) { return r.x + r.width / 2; };
  std::vector<cv::Rect2f> candidates;
  for (const auto& f : faces)
    if (f.area() >= kMinAreaShare * largest->area()) candidates.push_back(f);
  // Left-most first; ties (same centre) go to the larger, then the upper box, so the order of the
  // detections never matters.
  std::sort(candidates.begin(), candidates.end(), [&](const cv::Rect2f& a, const cv::Rect2f& b) {
    if (centre_x(a) != centre_x(b)) return centre_x(a) < centre_x(b);
    if (a.area() != b.area()) return a.area() > b.area();
    return a.y < b.y;
  });
  if (candidates.size() >= 2) return side == FaceSide::left ? candidates.front() : candidates.back();
  const cv::Rect2f& only = candidates.front();
  const float cx = centre_x(only), half = frame_width / 2.0f;
  if (side == FaceSide::left ? cx < half : cx >= half) return only;
  if (previous) {
    const float dx = cx - centre_x(*previous), dy = (only.y + only.height / 2) - (previous->y + previous->height / 2);
    if (std::hypot(dx, dy) <= std::max(previous->width, previous->height)) return only;
  }
  return std::nullopt;
}

}  // namespace avf::pre
