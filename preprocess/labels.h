// Continuous emotion labels: strict readers for AVEC 2016 gold-standard ARFF files, for CSV files
// (a time column plus one column per target) and for Aff-Wild2 (ABAW) per-frame annotations, and
// alignment onto the video's frame grid.
// Every error names file:line, the field and what was expected.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace avf::pre {

struct LabelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Samples of one or more targets at increasing times; a missing value is NaN.
struct LabelSeries {
  std::vector<std::string> names;  // target columns
  std::vector<double> times;       // seconds, strictly increasing, >= 0
  std::vector<float> values;       // row-major [times.size(), names.size()]
  double end_time() const { return times.empty() ? 0.0 : times.back(); }
};

// AVEC 2016 gold standard: @relation, @attribute Instance_name string, frameTime numeric,
// GoldStandard numeric, @data rows "id,time,value"; '?' is a missing value. names = {target}.
LabelSeries read_arff(const std::string& path, const std::string& target);

// CSV with a header; ',' or ';' separated; `time_column` holds seconds, every other column is a
// target. An empty field, NaN or ? is a missing value.
LabelSeries read_label_csv(const std::string& path, const std::string& time_column = "time");

// [n_frames, names.size()] row-major: frame k holds the mean of the samples whose time rounds to
// k / fps (so a 40 ms grid maps one to one at 25 fps, denser labels are averaged); NaN elsewhere.
std::vector<float> align_to_frames(const LabelSeries& series, double fps, int64_t n_frames);

// Labels per source video frame (no times: row k belongs to the video's frame k, counted from 0).
struct FrameLabels {
  std::vector<std::string> names;  // target columns
  std::vector<float> values;       // row-major [frames(), names.size()]; NaN = no label
  int64_t frames() const { return names.empty() ? 0 : int64_t(values.size() / names.size()); }
};

// Aff-Wild2 (ABAW) valence-arousal annotation, VA_Estimation_Challenge/<set>/<video>.txt: the header
// "valence,arousal", then one line per video frame (line k + 2 is frame k) holding both values in
// [-1, 1]. -5 in a column marks a frame without that label: NaN for that target only. Empty lines are
// allowed only at the end (one in between would shift every frame after it). names = {valence, arousal}.
FrameLabels read_affwild2_labels(const std::string& path);

}  // namespace avf::pre
