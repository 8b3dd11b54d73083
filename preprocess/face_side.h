// Whose face to keep when a frame shows several: the largest (one person per video), or the left or
// the right person of two side by side (Aff-Wild2 annotates such videos as <name>_left and
// <name>_right, two annotation files for one video file).
#pragma once
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace avf::pre {

enum class FaceSide { largest, left, right };

// "left" | "right" | "" (largest). Throws std::invalid_argument otherwise.
FaceSide parse_face_side(const std::string& text);

// The face of `side` among a frame's detections (frame pixels). left/right: faces smaller than a
// quarter of the largest one's area are ignored (spurious detections); of two or more, the one whose
// centre is left-most (right-most) is kept. A single face is kept when its centre lies in that half
// of the frame, or within one side length of `previous` (the person's face in the previous frame),
// so that the other person alone on screen is not taken for this one. largest: largest_face().
std::optional<cv::Rect2f> pick_face(const std::vector<cv::Rect2f>& faces, FaceSide side, int frame_width,
                                    const std::optional<cv::Rect2f>& previous);

}  // namespace avf::pre
