// Video decoding with OpenCV (FFmpeg backend: any codec FFmpeg reads), resampled by timestamp to a
// fixed frame rate on the label grid: output frame i is the source frame shown at time i / fps.
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

class ResampledVideo {
 public:
  ResampledVideo(const std::string& path, double fps);
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

 private:
  bool read_source(cv::Mat& frame, double& t);
  std::string path_;
  cv::VideoCapture cap_;
  VideoInfo info_;
  double fps_;
  int64_t out_index_ = 0, decoded_ = 0, bad_ = 0;
  double first_bad_t_ = 0;
  cv::Mat current_, upcoming_;
  double current_t_ = 0, upcoming_t_ = 0, first_t_ = 0, last_t_ = -1;
  bool started_ = false, have_upcoming_ = false;
};

}  // namespace avf::pre
