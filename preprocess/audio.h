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
  double seconds() const { return double(samples.size()) / sample_rate; }
};

// Throws std::runtime_error naming the file: unreadable, no audio stream, decode error, no samples.
Audio decode_audio(const std::string& path, int sample_rate = kSampleRate);

}  // namespace avf::pre
