#include "preprocess/video.h"

#include <fmt/format.h>

#include <stdexcept>

namespace avf::pre {
namespace {

cv::VideoCapture open_capture(const std::string& path) {
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  if (!cap.isOpened())
    throw std::runtime_error(
        fmt::format("{}: cannot open video (missing, truncated or not a format FFmpeg reads)", path));
  return cap;
}

VideoInfo read_info(cv::VideoCapture& cap) {
  VideoInfo info;
  info.fps = cap.get(cv::CAP_PROP_FPS);
  info.frame_count = static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_COUNT));
  info.seconds = info.fps > 0 ? info.frame_count / info.fps : 0;
  return info;
}

}  // namespace

VideoInfo probe_video(const std::string& path) {
  cv::VideoCapture cap = open_capture(path);
  VideoInfo info = read_info(cap);
  if (info.fps <= 0 || info.frame_count <= 0)
    throw std::runtime_error(fmt::format("{}: the video announces no frames or no frame rate", path));
  return info;
}

ResampledVideo::ResampledVideo(const std::string& path, double fps, SourcePick pick)
    : path_(path), cap_(open_capture(path)), fps_(fps), pick_(pick) {
  info_ = read_info(cap_);
}

bool ResampledVideo::read_source(cv::Mat& frame, double& t, int64_t& index) {
  const double period = info_.fps > 0 ? 1.0 / info_.fps : 1.0 / fps_;
  // A failed read is the end of the file, or a packet the decoder refused (OpenCV gives up on the
  // read at such a packet, but the next read goes on after it). At the end reads keep failing, at
  // almost no cost; a run of more refused packets than this is taken as the end, which
  // check_complete() then reports as a truncated video.
  constexpr int kMaxConsecutiveBad = 100;
  int failed = 0;
  while (!cap_.read(frame) || frame.empty())
    if (++failed > kMaxConsecutiveBad) return false;
  if (failed > 0 && bad_ == 0) first_bad_t_ = last_t_ < 0 ? 0 : last_t_ + period;
  bad_ += failed;
  ++decoded_;
  index = decoded_ + bad_ - 1;
  t = cap_.get(cv::CAP_PROP_POS_MSEC) / 1000.0;
  // Containers without usable timestamps repeat or omit them: fall back to the nominal rate.
  if (last_t_ >= 0 && t <= last_t_) t = last_t_ + period;
  last_t_ = t;
  return true;
}

bool ResampledVideo::next(cv::Mat& frame) {
  if (!started_) {
    started_ = true;
    if (!read_source(current_, current_t_, current_index_)) return false;
    first_t_ = current_t_;
    have_upcoming_ = read_source(upcoming_, upcoming_t_, upcoming_index_);
  }
  const double t = first_t_ + out_index_ / fps_;
  constexpr double kEps = 1e-6;
  // shown: the upcoming frame is on screen once its time has come. nearest: also when it is nearer
  // to t than the current one (at equal distance the earlier frame stays).
  auto take_upcoming = [&] {
    if (upcoming_t_ <= t + kEps) return true;
    return pick_ == SourcePick::nearest && upcoming_t_ - t < t - current_t_ - kEps;
  };
  while (have_upcoming_ && take_upcoming()) {
    std::swap(current_, upcoming_);
    current_t_ = upcoming_t_;
    current_index_ = upcoming_index_;
    have_upcoming_ = read_source(upcoming_, upcoming_t_, upcoming_index_);
  }
  const double period = info_.fps > 0 ? 1.0 / info_.fps : 1.0 / fps_;
  if (!have_upcoming_ && t >= current_t_ + period - kEps) return false;
  frame = current_;
  ++out_index_;
  return true;
}

void ResampledVideo::check_complete() const {
  if (decoded_ == 0) throw std::runtime_error(fmt::format("{}: no frame could be decoded", path_));
  // Announced counts are estimates for some containers; a shortfall beyond 5% means lost data.
  // Refused packets were there (the caller judges them), so they do not count as missing.
  if (info_.frame_count > 0 && decoded_ + bad_ < info_.frame_count * 0.95)
    throw std::runtime_error(fmt::format("{}: truncated video: decoded {} of the {} frames the container announces",
                                         path_, decoded_, info_.frame_count));
}

}  // namespace avf::pre
