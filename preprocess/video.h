// Video decoding with OpenCV (FFmpeg backend: any codec FFmpeg reads), resampled by timestamp to a
// fixed frame rate on the label grid: output frame i is the source frame shown at time i / fps (or,
// with SourcePick::nearest, the source frame whose time is nearest i / fps).
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <string>

namespace avf::pre {

struct VideoInfo {
  double fps = 0;           // the container's frame rate
  int64_t frame_count = 0;  // as the container announces it (0 when unknown)
  double seconds = 0;       // frame_count / fps
};

// Opens the file to read its header. Throws std::runtime_error naming the file if it is unreadable.
VideoInfo probe_video(const std::string& path);

// Which source frame an output frame shows: the one on screen at its time (what a viewer sees; labels
// on a time grid), or the one whose timestamp is nearest (labels given per source frame, as Aff-Wild2's:
// each output frame then takes one source frame and that frame's label). Both give the same number of
// output frames: every i with i / fps before the end of the last source frame.
enum class SourcePick { shown, nearest };

class ResampledVideo {
 public:
  ResampledVideo(const std::string& path, double fps, SourcePick pick = SourcePick::shown);
  // The next output frame (BGR; valid until the next call); false at the end of the video.
  bool next(cv::Mat& frame);
  // Throws if fewer source frames were decoded than the container announced (a truncated file).
  void check_complete() const;
  // Source frames decoded, and packets the decoder refused in between. OpenCV stops at the first
  // refused packet as if the video had ended; reading on skips it, as ffmpeg does, and the frame
  // before it stays on screen until the next decodable one (resampling is by timestamp).
  int64_t decoded() const { return decoded_; }
  int64_t bad_packets() const { return bad_; }
  double first_bad_s() const { return first_bad_t_; }  // source time of the first one (estimated)
  // The index in the stream (from 0, refused packets counted as frames) of the source frame the last
  // next() returned: the line of a per-source-frame annotation that belongs with it.
  int64_t source_index() const { return current_index_; }
  // The container's frame rate (0 when it announces none).
  double source_fps() const { return info_.fps; }

 private:
  bool read_source(cv::Mat& frame, double& t, int64_t& index);
  std::string path_;
  cv::VideoCapture cap_;
  VideoInfo info_;
  double fps_;
  SourcePick pick_;
  int64_t out_index_ = 0, decoded_ = 0, bad_ = 0, current_index_ = 0, upcoming_index_ = 0;
  double first_bad_t_ = 0;
  cv::Mat current_, upcoming_;
  double current_t_ = 0, upcoming_t_ = 0, first_t_ = 0, last_t_ = -1;
  bool started_ = false, have_upcoming_ = false;
};

}  // namespace avf::pre
