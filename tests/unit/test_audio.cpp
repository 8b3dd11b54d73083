// Audio: decoding resamples any rate and channel count to 16 kHz mono without moving a tone, and the
// spectrogram puts a tone in the right bin at the right level, one row per video frame.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "damage.h"
#include "preprocess/audio.h"
#include "preprocess/spectrogram.h"
#include "run_command.h"

using namespace avf::pre;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A 16-bit PCM WAV; each channel gets the tone at its own amplitude.
void write_wav(const std::string& path, int rate, const std::vector<double>& amplitudes, double freq, double seconds) {
  const int channels = static_cast<int>(amplitudes.size());
  const uint32_t frames = static_cast<uint32_t>(rate * seconds);
  const uint32_t bytes = frames * channels * 2;
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  out << "RIFF";
  u32(36 + bytes);
  out << "WAVEfmt ";
  u32(16), u16(1), u16(channels), u32(rate), u32(rate * channels * 2), u16(channels * 2), u16(16);
  out << "data";
  u32(bytes);
  for (uint32_t i = 0; i < frames; ++i)
    for (double a : amplitudes)
      u16(static_cast<uint16_t>(int16_t(std::lround(32767 * a * std::sin(2 * kPi * freq * i / rate)))));
}

int peak_bin(const std::vector<float>& spec, int row, int bins) {
  return int(std::max_element(spec.begin() + row * bins, spec.begin() + (row + 1) * bins) -
             (spec.begin() + row * bins));
}

}  // namespace

TEST(Resample, StereoAt48kHzBecomesMonoAt16kHzKeepingTheTone) {
  const std::string dir = make_temp_dir("avf-audio");
  write_wav(dir + "/tone.wav", 48000, {0.5, 0.5}, 1000.0, 2.0);
  const Audio a = decode_audio(dir + "/tone.wav");
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.source_rate, 48000);
  EXPECT_EQ(a.source_channels, 2);
  EXPECT_NEAR(double(a.samples.size()), 32000.0, 20.0);
  // 1000 Hz = bin 64 of the 1024-point DFT at 16 kHz (15.625 Hz per bin).
  const auto spec = log_spectrogram(a.samples, 25, SpectrogramParams{});
  for (int row = 1; row < 24; ++row) EXPECT_EQ(peak_bin(spec, row, 129), 64) << "row " << row;
  // Zero crossings: 1000 Hz gives 2000 per second whatever the input rate was.
  int crossings = 0;
  for (size_t i = 1600; i + 1 < 30400; ++i) crossings += (a.samples[i] < 0) != (a.samples[i + 1] < 0);
  EXPECT_NEAR(crossings / 1.8, 2000.0, 3.0);
}

TEST(Resample, EmptyWavIsAnErrorNamingTheFile) {
  const std::string dir = make_temp_dir("avf-audio");
  write_wav(dir + "/empty.wav", 16000, {1.0}, 100.0, 0.0);
  try {
    decode_audio(dir + "/empty.wav");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/empty.wav: audio stream contains no samples");
  }
  EXPECT_THROW(decode_audio(dir + "/missing.wav"), std::runtime_error);
}

// OpenCV's sample Megamind.avi begins with an incomplete AC3 frame (ffmpeg: "Invalid data found when
// processing input"): skipped and counted, its 32 ms filled with silence so the rest keeps its time.
TEST(DamagedAudio, MegamindsIncompleteFirstFrameIsSkippedAsSilence) {
  const std::string megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!std::filesystem::exists(megamind)) GTEST_SKIP() << megamind << " is missing: install Debian's opencv-doc";
  const Audio a = decode_audio(megamind);
  EXPECT_EQ(a.source_rate, 48000);
  EXPECT_EQ(a.packets, 352);
  EXPECT_EQ(a.bad_packets, 1);
  EXPECT_EQ(a.first_bad_s, 0.0);
  EXPECT_EQ(a.first_bad_error, "Invalid data found when processing input");
  EXPECT_NEAR(a.seconds(), 352 * 0.032, 0.002);  // every packet's 32 ms, the bad one's as silence
  float loudest = 0;
  for (size_t i = 0; i < 480; ++i) loudest = std::max(loudest, std::abs(a.samples[i]));  // the first 30 ms
  EXPECT_LT(loudest, 1e-4f);
}

// A 1 kHz tone in AAC with 10 packets overwritten by noise: each is skipped as silence of its 21 ms,
// and what follows the gap is where it was in the undamaged file.
TEST(DamagedAudio, SkippedPacketsKeepTheTimeOfWhatFollows) {
  const std::string dir = make_temp_dir("avf-audio");
  encode_test_media("sine=frequency=1000:sample_rate=48000:duration=4", "-c:a aac", dir + "/clean.m4a",
                    dir + "/damaged.m4a");
  const int packets = damage_packets(dir + "/damaged.m4a", 0, packet_range(50, 10));
  const Audio clean = decode_audio(dir + "/clean.m4a"), damaged = decode_audio(dir + "/damaged.m4a");
  EXPECT_EQ(clean.bad_packets, 0);
  EXPECT_EQ(damaged.packets, packets);
  EXPECT_EQ(damaged.bad_packets, 10);
  const double frame_s = 1024 / 48000.0;
  EXPECT_NEAR(damaged.first_bad_s, 49 * frame_s, 0.002);  // after the 50 packets before, less the encoder's delay
  ASSERT_EQ(damaged.samples.size(), clean.samples.size());
  const auto at = [&](double seconds) { return size_t(seconds * kSampleRate); };
  const double gap_end = damaged.first_bad_s + 10 * frame_s;
  float in_gap = 0, after = 0;
  for (size_t i = at(damaged.first_bad_s + 0.002); i < at(gap_end - 0.002); ++i)
    in_gap = std::max(in_gap, std::abs(damaged.samples[i]));
  // The decoder needs a frame after the gap to settle (overlapping transforms); then it is exact.
  for (size_t i = at(gap_end + 2 * frame_s); i < clean.samples.size(); ++i)
    after = std::max(after, std::abs(damaged.samples[i] - clean.samples[i]));
  EXPECT_LT(in_gap, 1e-3f);
  EXPECT_LT(after, 1e-4f);
}

TEST(Spectrogram, ShapeIsFramesByBins) {
  SpectrogramParams p;
  p.freq_bins = 40;
  const auto spec = log_spectrogram(std::vector<float>(16000, 0.0f), 30, p);
  EXPECT_EQ(spec.size(), 30u * 40u);
  for (float v : spec) EXPECT_FLOAT_EQ(v, -100.0f);  // silence sits at the floor, also past the audio's end
}

TEST(Spectrogram, ToneLandsInItsBinAtItsLevel) {
  // 500 Hz is bin 32; amplitude 0.5 is 20*log10(0.5) = -6.02 dB relative to full scale.
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(0.5 * std::sin(2 * kPi * 500.0 * i / 16000));
  const auto spec = log_spectrogram(x, 25, SpectrogramParams{});
  for (int row = 0; row < 25; ++row) {
    EXPECT_EQ(peak_bin(spec, row, 129), 32);
    EXPECT_NEAR(spec[row * 129 + 32], -6.02, 0.05);
    EXPECT_LT(spec[row * 129 + 40], -40.0);  // far bins stay low (Hann sidelobes)
  }
}

TEST(Spectrogram, RowIMatchesVideoFrameI) {
  // A burst exactly inside video frame 3 (at 25 fps: samples 1920..2559) shows in row 3 only.
  std::vector<float> x(16000, 0.0f);
  for (int i = 1920; i < 2560; ++i) x[i] = float(std::sin(2 * kPi * 1000.0 * i / 16000));
  const auto spec = log_spectrogram(x, 25, SpectrogramParams{});
  EXPECT_GT(spec[3 * 129 + 64], -10.0f);
  EXPECT_FLOAT_EQ(spec[2 * 129 + 64], -100.0f);
  EXPECT_FLOAT_EQ(spec[4 * 129 + 64], -100.0f);
  // At 30 fps frame 4 starts at round(4 * 16000 / 30) = 2133: the burst falls in rows 3 and 4.
  SpectrogramParams p30;
  p30.fps = 30;
  const auto s30 = log_spectrogram(x, 30, p30);
  EXPECT_GT(s30[3 * 129 + 64], -20.0f);
  EXPECT_GT(s30[4 * 129 + 64], -20.0f);
  EXPECT_FLOAT_EQ(s30[5 * 129 + 64], -100.0f);
}

TEST(Spectrogram, RejectsBinsBeyondTheDft) {
  SpectrogramParams p;
  p.freq_bins = 514;
  EXPECT_THROW(log_spectrogram({0.0f}, 1, p), std::invalid_argument);
}
