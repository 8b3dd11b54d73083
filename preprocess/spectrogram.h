// Log-power spectrogram with one row per video frame (the paper's audio input).
//
// Row i analyses the 40 ms of audio that start at frame i's timestamp, i / fps: samples
// [round(i * sr / fps), + window) at sr = 16 kHz, so window = 640 samples and, at 25 fps, the hop is
// also 640 (no overlap, no gap). The window is Hann (periodic), zero-padded to a 1024-point DFT.
// Bins kept: k = 0 .. freq_bins-1 of the one-sided spectrum, bin k centred at k * sr / 1024 =
// k * 15.625 Hz; the default 129 bins cover 0 Hz to 2000 Hz inclusive. That band holds the voice's
// pitch, its harmonics and the first formants, where loudness and pitch (arousal cues) live, and it
// gives the paper's 128 x 129 input for a 5.12 s window with the paper's DFT length of 1024.
// Power is scaled so that a full-scale sine centred on a bin reads 0 dB at that bin; values are
// 10 * log10(max(power, 1e-10)), i.e. floored at -100 dB. Audio past its end counts as silence.
#pragma once
#include <cstdint>
#include <vector>

namespace avf::pre {

struct SpectrogramParams {
  int sample_rate = 16000;
  double fps = 25.0;
  double window_s = 0.040;
  int n_fft = 1024;
  int freq_bins = 129;
  double floor_db = -100.0;
};

// Row-major [n_frames, freq_bins] dB values. Throws std::invalid_argument for bad parameters.
std::vector<float> log_spectrogram(const std::vector<float>& samples, int64_t n_frames, const SpectrogramParams& p);

}  // namespace avf::pre
