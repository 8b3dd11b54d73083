#include "preprocess/process_video.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <stdexcept>

#include "core/base/lap.h"
#include "core/base/log.h"
#include "preprocess/audio.h"
#include "preprocess/face_side.h"
#include "preprocess/labels.h"
#include "preprocess/mel_frontend.h"
#include "preprocess/spectrogram.h"
#include "preprocess/video.h"

namespace avf::pre {

StageSeconds& StageSeconds::operator+=(const StageSeconds& o) {
  decode += o.decode, detect += o.detect, crop += o.crop, spectrogram += o.spectrogram, write += o.write;
  return *this;
}

namespace {

// The label files of one video, parsed up front so a bad line fails before any decoding.
struct VideoLabels {
  std::vector<LabelSeries> series;
  std::vector<std::string> files;
  std::vector<std::pair<int, size_t>> source;  // per target: (series index or -1 = missing, column)
};

VideoLabels load_labels(const VideoInput& v, const std::vector<std::string>& targets, const Params& p,
                        const std::string& label_format) {
  VideoLabels l;
  if (label_format == "arff") {
    for (size_t t = 0; t < targets.size(); ++t) {
      const std::string& file = v.label_files.at(t);
      if (!std::filesystem::exists(file)) {  // e.g. the unreleased test labels: a NaN column
        l.source.emplace_back(-1, 0);
        continue;
      }
      l.source.emplace_back(int(l.series.size()), 0);
      l.series.push_back(read_arff(file, targets[t]));
      l.files.push_back(file);
    }
    return l;
  }
  const std::string& file = v.label_files.at(0);
  l.series.push_back(read_label_csv(file, p.time_column));
  l.files.push_back(file);
  const auto& names = l.series[0].names;
  for (const auto& target : targets) {
    const auto it = std::find(names.begin(), names.end(), target);
    if (it == names.end() || names.size() != targets.size())
      throw std::runtime_error(fmt::format("{}: label columns {} differ from the dataset's targets {}", file,
                                           fmt::join(names, ","), fmt::join(targets, ",")));
    l.source.emplace_back(0, it - names.begin());
  }
  return l;
}

// [n, targets] on the frame grid, after checking each file covers the video.
std::vector<float> align_labels(const VideoLabels& l, const Params& p, int64_t n) {
  const double video_end = (n - 1) / p.fps;
  std::vector<std::vector<float>> aligned;
  for (size_t i = 0; i < l.series.size(); ++i) {
    if (std::abs(l.series[i].end_time() - video_end) > p.length_tolerance)
      throw std::runtime_error(
          fmt::format("{}: mismatched lengths: labels end at {:.2f} s but the video's last frame is at {:.2f} s ({} "
                      "frames at {} fps)",
                      l.files[i], l.series[i].end_time(), video_end, n, p.fps));
    aligned.push_back(align_to_frames(l.series[i], p.fps, n));
  }
  const size_t t_count = l.source.size();
  std::vector<float> out(n * t_count, std::nanf(""));
  for (size_t t = 0; t < t_count; ++t) {
    const auto [series, column] = l.source[t];
    if (series < 0) continue;
    const size_t width = l.series[series].names.size();
    for (int64_t i = 0; i < n; ++i) out[i * t_count + t] = aligned[series][i * width + column];
  }
  return out;
}

// Aff-Wild2: one label line per source frame, so output frame i takes the line of the source frame it
// shows (ResampledVideo::source_index()); frames past the last line are NaN. The line count must match
// the video's frame count within p.length_tolerance seconds.
std::vector<float> labels_of_source_frames(const FrameLabels& l, const std::string& file,
                                           const std::vector<int64_t>& source_frames, int64_t video_frames,
                                           double video_fps, const Params& p) {
  const double fps = video_fps > 0 ? video_fps : p.fps;
  if (std::abs(double(l.frames() - video_frames)) / fps > p.length_tolerance)
    throw std::runtime_error(
        fmt::format("{}: mismatched lengths: {} label lines but the video has {} frames ({:.2f} s apart at {} fps)",
                    file, l.frames(), video_frames, std::abs(double(l.frames() - video_frames)) / fps, fps));
  const size_t width = l.names.size();
  std::vector<float> out(source_frames.size() * width, std::nanf(""));
  for (size_t i = 0; i < source_frames.size(); ++i)
    if (source_frames[i] < l.frames())
      std::copy_n(l.values.begin() + source_frames[i] * width, width, out.begin() + i * width);
  return out;
}

// The organisers' cropped, aligned faces by source frame (file 00001.jpg is frame 0), read as needed.
class AlignedFaces {
 public:
  explicit AlignedFaces(const std::vector<std::string>& images) {
    for (const auto& path : images) by_frame_[std::stol(std::filesystem::path(path).stem().string()) - 1] = path;
  }
  bool empty() const { return by_frame_.empty(); }
  // The face of source frame `index` as RGB at size x size, or nullptr when that frame has none.
  const cv::Mat* face(int64_t index, int size) {
    if (index == index_) return current_.empty() ? nullptr : &current_;
    index_ = index;
    current_.release();
    const auto it = by_frame_.find(index);
    if (it == by_frame_.end()) return nullptr;
    const cv::Mat img = cv::imread(it->second, cv::IMREAD_COLOR);
    if (img.empty()) throw std::runtime_error(fmt::format("{}: cannot read the face image", it->second));
    cv::resize(img, current_, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    cv::cvtColor(current_, current_, cv::COLOR_BGR2RGB);
    box_ = cv::Rect2f(0, 0, float(img.cols), float(img.rows));
    return &current_;
  }
  const cv::Rect2f& box() const { return box_; }  // of the last face returned: the whole image

 private:
  std::map<int64_t, std::string> by_frame_;
  int64_t index_ = -1;
  cv::Mat current_;
  cv::Rect2f box_;
};

// Packets of one stream that failed to decode were skipped (as ffmpeg skips them); a few are
// warned about, more than p.max_bad_fraction of the stream's packets fail the video.
void check_bad_packets(const std::string& file, const char* stream, int64_t bad, int64_t packets, double first_s,
                       const std::string& why, const std::string& filled, const Params& p) {
  if (bad == 0) return;
  const std::string what = fmt::format("{}: {} of {} {} packets could not be decoded (the first at {:.2f} s{})", file,
                                       bad, packets, stream, first_s, why.empty() ? "" : ": " + why);
  if (double(bad) > p.max_bad_fraction * double(packets))
    throw std::runtime_error(
        fmt::format("{}, more than --max-bad-fraction {} of them allows", what, p.max_bad_fraction));
  log::warn("{}; skipped, {}", what, filled);
}

}  // namespace

int64_t estimate_frames(const VideoInput& v, const Params& p) {
  if (!v.error.empty()) throw std::runtime_error(v.error);
  if (v.video.empty()) return static_cast<int64_t>(v.face_images.size());
  return std::max<int64_t>(1, std::llround(probe_video(v.video).seconds * p.fps));
}

VideoSummary process_video(const VideoInput& v, const Dataset& dataset, const std::string& source_sha256,
                           const Params& p, FaceDetector& detector, ShardWriter& writer,
                           const std::function<void()>& on_frame) {
  if (!v.error.empty()) throw std::runtime_error(v.error);
  VideoSummary summary{v.id, v.partition, 0, 0, {}};
  StageSeconds& seconds = summary.seconds;
  Lap lap;
  // Cheap inputs first, so a bad label line or an empty WAV fails before minutes of video decoding.
  // Aff-Wild2 labels belong to source frames: each output frame shows the source frame nearest its
  // time and takes that frame's label line (and cropped_aligned face), so face and label stay together.
  const bool per_source_frame = dataset.label_format == "affwild2";
  std::optional<FrameLabels> frame_labels;
  VideoLabels labels;
  if (per_source_frame && v.video.empty())
    throw std::runtime_error(fmt::format("{}: labels per source frame need the video", v.id));
  if (per_source_frame)
    frame_labels = read_affwild2_labels(v.label_files.at(0));
  else
    labels = load_labels(v, dataset.targets, p, dataset.label_format);
  // The video is opened (not yet decoded) before its audio stream is read, so that a file that is
  // no video is named as such rather than as unreadable audio.
  std::optional<ResampledVideo> video;
  if (!v.video.empty()) video.emplace(v.video, p.fps, per_source_frame ? SourcePick::nearest : SourcePick::shown);
  const std::string audio_file = v.audio.empty() ? v.video : v.audio;
  const Audio audio = decode_audio(audio_file);
  check_bad_packets(audio_file, "audio", audio.bad_packets, audio.packets, audio.first_bad_s, audio.first_bad_error,
                    "their time filled with silence", p);
  seconds.decode += lap();

  // What the frames come from, for messages and the `source` attribute.
  const std::string source = !v.video.empty()        ? v.video
                             : v.face_images.empty() ? v.id + " (no face images)"
                                                     : std::filesystem::path(v.face_images[0]).parent_path().string();
  std::vector<uint8_t> found;
  std::vector<float> boxes;
  std::vector<int64_t> source_frames;  // per output frame, the source frame it shows (video input)
  AlignedFaces aligned(video ? v.face_images : std::vector<std::string>{});
  writer.begin_video(v.id, p.face_size);
  try {
    auto keep = [&](const cv::Mat& rgb, const std::optional<cv::Rect2f>& box, bool detected) {
      seconds.crop += lap();
      writer.append_face(rgb.data);
      seconds.write += lap();
      found.push_back(detected ? 1 : 0);
      summary.face_frames += detected;
      const cv::Rect2f b = box.value_or(cv::Rect2f());
      boxes.insert(boxes.end(), {b.x, b.y, b.width, b.height});
      on_frame();
    };
    if (video) {
      FaceTracker tracker(p.box_smoothing, p.max_gap);
      const FaceSide side = parse_face_side(v.face_side);
      FaceSearch search(detector, p.full_search_every,
                        [side](const std::vector<cv::Rect2f>& faces, int width, const std::optional<cv::Rect2f>& prev) {
                          return pick_face(faces, side, width, prev);
                        });
      const cv::Mat black(p.face_size, p.face_size, CV_8UC3, cv::Scalar::all(0));
      cv::Mat frame, last_aligned = black;
      std::optional<cv::Rect2f> detected, last_aligned_box;
      lap();
      while (video->next(frame)) {
        seconds.decode += lap();
        source_frames.push_back(video->source_index());
        if (!aligned.empty()) {  // a source frame without its face image has no face: the last one stays
          const cv::Mat* face = aligned.face(video->source_index(), p.face_size);
          seconds.decode += lap();
          if (face) last_aligned = *face, last_aligned_box = aligned.box();
          keep(last_aligned, last_aligned_box, face != nullptr);
          continue;
        }
        detected = search.next(frame);
        const auto box = tracker.update(detected);
        seconds.detect += lap();
        keep(box ? crop_face(frame, *box, p.face_margin, p.face_size) : black, box, detected.has_value());
      }
      check_bad_packets(v.video, "video", video->bad_packets(), video->decoded() + video->bad_packets(),
                        video->first_bad_s(), "", "the frame before each one shown in its place", p);
      video->check_complete();
    } else {
      for (const auto& path : v.face_images) {
        const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
        if (img.empty()) throw std::runtime_error(fmt::format("{}: cannot read the face image", path));
        seconds.decode += lap();
        cv::Mat rgb;
        cv::resize(img, rgb, cv::Size(p.face_size, p.face_size), 0, 0, cv::INTER_AREA);
        cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
        keep(rgb, cv::Rect2f(0, 0, float(img.cols), float(img.rows)), true);
      }
    }
    const int64_t n = summary.n_frames = static_cast<int64_t>(found.size());
    if (n == 0) throw std::runtime_error(fmt::format("{}: no frames", source));
    if (summary.face_frames == 0)
      throw std::runtime_error(fmt::format("{}: no face found in any of its {} frames ({})", v.video, n,
                                           aligned.empty()
                                               ? "detector " + p.face_detector
                                               : "no cropped_aligned face for any of them in " +
                                                     std::filesystem::path(v.face_images[0]).parent_path().string()));
    const double video_s = n / p.fps;
    if (std::abs(audio.seconds() - video_s) > p.length_tolerance)
      throw std::runtime_error(
          fmt::format("{}: mismatched lengths: audio is {:.2f} s but the video is {:.2f} s ({} frames at {} fps)",
                      audio_file, audio.seconds(), video_s, n, p.fps));
    const std::vector<float> label_rows =
        per_source_frame ? labels_of_source_frames(*frame_labels, v.label_files.at(0), source_frames,
                                                   video->decoded() + video->bad_packets(), video->source_fps(), p)
                         : align_labels(labels, p, n);
    lap();
    int64_t rows_per_frame = 1;
    std::vector<float> spec;
    if (p.audio_frontend == "authors") {
      MelParams mp;
      mp.fps = p.fps;
      mp.sample_rate = audio.sample_rate;
      mp.f_max = audio.sample_rate / 2.0;
      rows_per_frame = mel_rows_per_frame(mp);
      spec = log_mel_spectrogram(audio.samples, n, mp);
    } else {
      SpectrogramParams sp;
      sp.fps = p.fps;
      sp.freq_bins = p.freq_bins;
      spec = log_spectrogram(audio.samples, n, sp);
    }
    seconds.spectrogram += lap();
    VideoAttrs attrs;
    attrs.id = v.id;
    attrs.partition = v.partition;
    attrs.fps = p.fps;
    attrs.sample_rate = audio.sample_rate;
    attrs.spectrogram_rows_per_frame = rows_per_frame;
    attrs.source = source;
    attrs.source_sha256 = source_sha256;
    writer.end_video(attrs, found, boxes, spec, p.freq_bins, label_rows, dataset.targets);
    seconds.write += lap();
  } catch (...) {
    writer.abort_video();
    throw;
  }
  return summary;
}

}  // namespace avf::pre
