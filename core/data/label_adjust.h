// What the authors do to the annotations before training (data.label-shift, data.label-median):
//   1. a median filter over `median` frames per target (edges: the window shrinks to the frames that
//      exist; NaN frames are left out of the window, and a frame whose window is all NaN stays NaN);
//   2. the annotation delay: the label of frame f becomes the (filtered) annotation of frame
//      f + round(seconds * fps), since annotators react seconds after what they see; the last frames,
//      whose annotation lies past the end, keep the video's last annotation.
// Applied where labels are read from the shards (core/data/stage_data.cpp), so training, validation,
// extraction (features carry the adjusted labels) and evaluation all see the same labels, on the
// video's time axis: a prediction for frame f is for what the video shows at f.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace avf {

struct LabelAdjustment {
  std::map<std::string, double> shift_seconds;  // per target; absent = 0
  int median = 0;                               // odd kernel in frames; 0 or 1 = off
  bool active() const { return median > 1 || !shift_seconds.empty(); }
};

// labels: [n_frames, targets.size()] row-major, NaN = missing; adjusted in place.
void adjust_labels(std::vector<float>& labels, int64_t n_frames, const std::vector<std::string>& targets, double fps,
                   const LabelAdjustment& adjustment);

}  // namespace avf
