// Audio decoding: any file FFmpeg reads (WAV, or a video's own audio stream), any sample rate and
// channel count, mixed to mono and resampled with libswresample.
#pragma once
#include <string>
#include <vector>

namespace avf::pre {

inline constexpr int kSampleRate = 16000;  // the paper's audio rate

struct Audio {
  std::vector<float> samples;  // mono, kSampleRate (or the requested rate), full scale = 1.0
  int sample_rate = kSampleRate;
  int source_rate = 0;
  int source_channels = 0;
  // Packets the decoder refused (FFmpeg's "Error while decoding stream", e.g. an incomplete AC3
  // frame): skipped as ffmpeg skips them, each replaced by silence of its duration so that later
  // samples keep their time. The caller decides how many are too many.
  int64_t packets = 0;  // audio packets read
  int64_t bad_packets = 0;
  double first_bad_s = 0;       // where the first one falls in `samples`, in seconds
  std::string first_bad_error;  // FFmpeg's reason for it
  double seconds() const { return double(samples.size()) / sample_rate; }
};

// Throws std::runtime_error naming the file: unreadable, no audio stream, no samples. Undecodable
// packets do not throw; they are counted in the result.
Audio decode_audio(const std::string& path, int sample_rate = kSampleRate);

}  // namespace avf::pre
