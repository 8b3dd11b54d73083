#include "preprocess/labels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "core/base/text.h"

namespace avf::pre {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// Reads lines and keeps the current position for messages.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw LabelError(fmt::format("{}: cannot open label file", path));
  }
  bool next(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_no_;
    line = trim(line);
    return true;
  }
  template <class... Args>
  LabelError error(fmt::format_string<Args...> f, Args&&... args) const {
    return LabelError(fmt::format("{}:{}: {}", path_, line_no_, fmt::format(f, std::forward<Args>(args)...)));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  int line_no_ = 0;
};

// Appends one row after checking its time; shared by both formats so they agree on what is valid.
void add_time(LabelSeries& s, const LineReader& r, const std::string& column, const std::string& text) {
  double t = 0;
  if (!parse_number(text, t) || !std::isfinite(t)) throw r.error("{} '{}' is not a number", column, text);
  if (t < 0) throw r.error("{} {} is negative", column, text);
  if (!s.times.empty() && t <= s.times.back())
    throw r.error("{} {} is not after the previous row's {}", column, text, s.times.back());
  s.times.push_back(t);
}

void add_value(LabelSeries& s, const LineReader& r, const std::string& column, const std::string& text,
               bool empty_is_missing) {
  double v = 0;
  if (text == "?" || lower(text) == "nan" || (empty_is_missing && text.empty())) {
    s.values.push_back(kMissing);
  } else if (parse_number(text, v) && std::isfinite(v)) {
    s.values.push_back(static_cast<float>(v));
  } else {
    throw r.error("{} '{}' is not a number (write ? for a missing value)", column, text);
  }
}

}  // namespace

LabelSeries read_arff(const std::string& path, const std::string& target) {
  static const std::vector<std::string> kColumns = {"Instance_name", "frameTime", "GoldStandard"};
  LineReader r(path);
  LabelSeries s;
  s.names = {target};
  std::vector<std::string> attributes;
  bool relation = false, data = false;
  std::string line;
  while (r.next(line)) {
    if (line.empty() || line[0] == '%') continue;
    if (!data) {
      const std::string head = lower(line.substr(0, line.find_first_of(" \t")));
      if (head == "@relation") {
        relation = true;
      } else if (head == "@attribute") {
        if (!relation) throw r.error("@attribute before @relation");
        std::string rest = trim(line.substr(10));
        const std::string name = rest.substr(0, rest.find_first_of(" \t"));
        const std::string type = lower(trim(rest.substr(name.size())));
        const size_t index = attributes.size();
        if (index >= kColumns.size() || name != kColumns[index])
          throw r.error("unexpected attribute '{}'; expected Instance_name, frameTime, GoldStandard in this order",
                        name);
        const bool numeric = type == "numeric" || type == "real";
        if (index == 0 ? type != "string" : !numeric)
          throw r.error("attribute {} has type '{}'; expected {}", name, type, index == 0 ? "string" : "numeric");
        attributes.push_back(name);
      } else if (head == "@data") {
        if (attributes.size() != kColumns.size())
          throw r.error("@data after {} attributes; expected Instance_name, frameTime, GoldStandard",
                        attributes.size());
        data = true;
      } else {
        throw r.error("unexpected '{}'; expected @relation, @attribute or @data", line);
      }
      continue;
    }
    const auto fields = split(line, ',');
    if (fields.size() != kColumns.size())
      throw r.error("expected 3 fields (Instance_name,frameTime,GoldStandard), got {}", fields.size());
    add_time(s, r, "frameTime", fields[1]);
    add_value(s, r, "GoldStandard", fields[2], false);
  }
  if (!data) throw LabelError(fmt::format("{}: no @data section; expected an AVEC 2016 gold-standard ARFF file", path));
  if (s.times.empty()) throw LabelError(fmt::format("{}: no data rows after @data", path));
  return s;
}

LabelSeries read_label_csv(const std::string& path, const std::string& time_column) {
  LineReader r(path);
  std::string line;
  while (r.next(line) && line.empty()) {
  }
  if (line.empty()) throw LabelError(fmt::format("{}: empty label file; expected a header line", path));
  const char sep = line.find(';') != std::string::npos ? ';' : ',';
  const auto header = split(line, sep);
  const auto time_it = std::find(header.begin(), header.end(), time_column);
  if (time_it == header.end()) throw r.error("no time column '{}' in the header '{}'", time_column, line);
  const size_t time_index = time_it - header.begin();
  LabelSeries s;
  for (size_t i = 0; i < header.size(); ++i)
    if (i != time_index) s.names.push_back(header[i]);
  if (s.names.empty()) throw r.error("no target column besides '{}'", time_column);
  while (r.next(line)) {
    if (line.empty()) continue;
    const auto fields = split(line, sep);
    if (fields.size() != header.size())
      throw r.error("expected {} fields like the header, got {}", header.size(), fields.size());
    add_time(s, r, time_column, fields[time_index]);
    for (size_t i = 0; i < fields.size(); ++i)
      if (i != time_index) add_value(s, r, header[i], fields[i], true);
  }
  if (s.times.empty()) throw LabelError(fmt::format("{}: no data rows after the header", path));
  return s;
}

FrameLabels read_affwild2_labels(const std::string& path) {
  static const std::vector<std::string> kNames = {"valence", "arousal"};
  constexpr double kNoLabel = -5;  // the organisers' marker of a frame nobody annotated
  LineReader r(path);
  std::string line;
  if (!r.next(line))
    throw LabelError(fmt::format("{}: empty annotation file; expected the header valence,arousal", path));
  if (split(line, ',') != kNames) throw r.error("header '{}'; expected valence,arousal", line);
  FrameLabels l;
  l.names = kNames;
  bool gap = false;  // an empty line was seen: only more empty lines may follow
  while (r.next(line)) {
    if (line.empty()) {
      gap = true;
      continue;
    }
    if (gap)
      throw r.error("a frame after an empty line; expected one line per video frame, empty lines only at the end");
    const auto fields = split(line, ',');
    if (fields.size() != kNames.size()) throw r.error("expected 2 fields (valence,arousal), got {}", fields.size());
    for (size_t c = 0; c < kNames.size(); ++c) {
      double v = 0;
      if (!parse_number(fields[c], v) || !std::isfinite(v))
        throw r.error("{} '{}' is not a number; expected a value in [-1, 1], or -5 for no label", kNames[c], fields[c]);
      if (v == kNoLabel) {
        l.values.push_back(kMissing);
      } else if (v >= -1 && v <= 1) {
        l.values.push_back(static_cast<float>(v));
      } else {
        throw r.error("{} {} is outside [-1, 1]; expected a value in [-1, 1], or -5 for no label", kNames[c],
                      fields[c]);
      }
    }
  }
  if (l.values.empty()) throw LabelError(fmt::format("{}: no frame lines after the header valence,arousal", path));
  return l;
}

std::vector<float> align_to_frames(const LabelSeries& s, double fps, int64_t n_frames) {
  const size_t t = s.names.size();
  std::vector<double> sum(n_frames * t, 0.0);
  std::vector<int> count(n_frames * t, 0);
  for (size_t row = 0; row < s.times.size(); ++row) {
    const int64_t k = std::llround(s.times[row] * fps);
    if (k >= n_frames) break;
    for (size_t c = 0; c < t; ++c) {
      const float v = s.values[row * t + c];
      if (std::isnan(v)) continue;
      sum[k * t + c] += v;
      ++count[k * t + c];
    }
  }
  std::vector<float> out(n_frames * t, kMissing);
  for (size_t i = 0; i < out.size(); ++i)
    if (count[i] > 0) out[i] = static_cast<float>(sum[i] / count[i]);
  return out;
}

}  // namespace avf::pre
