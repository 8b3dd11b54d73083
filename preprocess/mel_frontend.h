// The authors' audio front-end (--audio-frontend authors), from their public code rather than the
// paper's text: torchaudio's MelSpectrogram as they configure it, then log2.
//
// Short-time Fourier transform as torch.stft(center=True, pad_mode="reflect"): the audio is reflected
// by n_fft/2 samples at both ends and row m is the n_fft-sample frame centred on sample round(m * hop),
// windowed by a periodic Hann window of win_length samples placed in the frame's middle. Magnitudes
// are divided by the window's L2 norm (normalized=True), squared (power 2) and summed into n_mels
// triangular bands on the HTK mel scale (mel = 2595 log10(1 + f/700)) from f_min to f_max without
// area normalisation (torchaudio's defaults mel_scale="htk", norm=None). Zeros become 1e-19 before
// log2, as in the authors' code. Per-window z-scoring happens at load time, as for the paper's input.
//
// Defaults: 16 kHz, n_fft 1024, 25 ms window (400 samples), 10 ms hop (160 samples), 128 mels over
// 0–8000 Hz. Rows are tied to video frames: r = round(frame duration / hop) rows per frame (4 at
// 25 fps), the hop adjusted to frame duration / r so rows never drift from the label grid (at 30 fps
// r = 3, hop 11.1 ms). Audio past its end counts as silence.
#pragma once
#include <cstdint>
#include <vector>

namespace avf::pre {

struct MelParams {
  int sample_rate = 16000;
  double fps = 25.0;
  int n_fft = 1024;
  int win_length = 400;
  double hop_s = 0.010;
  int n_mels = 128;
  double f_min = 0.0;
  double f_max = 8000.0;  // sample_rate / 2, torchaudio's default
};

// Spectrogram rows per video frame (>= 1).
int mel_rows_per_frame(const MelParams& p);

// Row-major [n_frames * mel_rows_per_frame(p), n_mels] log2 mel power. Throws std::invalid_argument
// for bad parameters.
std::vector<float> log_mel_spectrogram(const std::vector<float>& samples, int64_t n_frames, const MelParams& p);

// torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None,
// mel_scale="htk"): [n_freqs, n_mels] float64.
std::vector<double> mel_filterbank(int n_freqs, double f_min, double f_max, int n_mels, int sample_rate);

}  // namespace avf::pre
