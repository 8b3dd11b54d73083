#include "preprocess/mel_frontend.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace avf::pre {

namespace {
double hz_to_mel(double f) { return 2595.0 * std::log10(1.0 + f / 700.0); }
double mel_to_hz(double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); }
}  // namespace

int mel_rows_per_frame(const MelParams& p) { return std::max(1, int(std::lround(1.0 / (p.fps * p.hop_s)))); }

std::vector<double> mel_filterbank(int n_freqs, double f_min, double f_max, int n_mels, int sample_rate) {
  // Triangles between n_mels + 2 points equally spaced in mel; bin k sits at k * (sr/2) / (n_freqs - 1).
  std::vector<double> f_pts(n_mels + 2);
  const double m_min = hz_to_mel(f_min), m_max = hz_to_mel(f_max);
  for (int i = 0; i < n_mels + 2; ++i) f_pts[i] = mel_to_hz(m_min + (m_max - m_min) * i / (n_mels + 1));
  std::vector<double> fb(size_t(n_freqs) * n_mels);
  for (int k = 0; k < n_freqs; ++k) {
    const double f = (sample_rate / 2.0) * k / (n_freqs - 1);
    for (int m = 0; m < n_mels; ++m) {
      const double down = (f - f_pts[m]) / (f_pts[m + 1] - f_pts[m]);
      const double up = (f_pts[m + 2] - f) / (f_pts[m + 2] - f_pts[m + 1]);
      fb[size_t(k) * n_mels + m] = std::max(0.0, std::min(down, up));
    }
  }
  return fb;
}

std::vector<float> log_mel_spectrogram(const std::vector<float>& samples, int64_t n_frames, const MelParams& p) {
  if (p.win_length <= 0 || p.win_length > p.n_fft)
    throw std::invalid_argument(
        fmt::format("mel window of {} samples must be within 1..{} (the DFT length)", p.win_length, p.n_fft));
  if (p.n_mels <= 0 || !(p.f_min >= 0 && p.f_min < p.f_max && p.f_max <= p.sample_rate / 2.0))
    throw std::invalid_argument(
        fmt::format("mel bands: {} bands over {}..{} Hz at {} Hz: expected >= 1 band within 0..Nyquist", p.n_mels,
                    p.f_min, p.f_max, p.sample_rate));
  if (n_frames <= 0) return {};
  const int r = mel_rows_per_frame(p);
  const int64_t rows = n_frames * r, half = p.n_fft / 2;
  const double hop = p.sample_rate / (p.fps * r);

  // Audio past its end is silence; reflection needs more than n_fft/2 samples.
  std::vector<double> x(samples.begin(), samples.end());
  const int64_t needed = std::max<int64_t>(std::llround((rows - 1) * hop) + 1, half + 1);
  if (int64_t(x.size()) < needed) x.resize(needed, 0.0);
  const int64_t L = x.size();
  // Reflect padding (no repeat of the edge sample), as torch.stft(center=True) does.
  std::vector<double> padded(L + 2 * half);
  for (int64_t i = 0; i < int64_t(padded.size()); ++i) {
    int64_t j = i - half;
    if (j < 0) j = -j;
    if (j >= L) j = 2 * (L - 1) - j;
    padded[i] = x[j];
  }

  // Frames [rows, n_fft]: frame m starts at round(m * hop) in padded coordinates (centre + n_fft/2).
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor frames = torch::empty({rows, p.n_fft}, opts);
  auto acc = frames.accessor<double, 2>();
  for (int64_t m = 0; m < rows; ++m) {
    const int64_t start = std::llround(m * hop);
    std::copy_n(padded.data() + start, p.n_fft, &acc[m][0]);
  }
  // The win_length Hann window sits in the middle of the n_fft frame, zeros around it.
  torch::Tensor window = torch::zeros({p.n_fft}, opts);
  const torch::Tensor hann = torch::hann_window(p.win_length, /*periodic=*/true, opts);
  window.narrow(0, (p.n_fft - p.win_length) / 2, p.win_length).copy_(hann);

  const torch::Tensor power = torch::fft::rfft(frames * window, p.n_fft, /*dim=*/1).abs().pow(2) /
                              hann.pow(2).sum();  // normalized=True: |X| / ||w||
  const int n_freqs = p.n_fft / 2 + 1;
  auto fb_values = mel_filterbank(n_freqs, p.f_min, p.f_max, p.n_mels, p.sample_rate);
  const torch::Tensor fb = torch::from_blob(fb_values.data(), {n_freqs, p.n_mels}, opts);
  torch::Tensor mel = power.matmul(fb);
  mel = torch::where(mel == 0, torch::full_like(mel, 1e-19), mel);
  const torch::Tensor out = torch::log2(mel).to(torch::kFloat).contiguous();
  return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

}  // namespace avf::pre
