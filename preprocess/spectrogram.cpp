#include "preprocess/spectrogram.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace avf::pre {

std::vector<float> log_spectrogram(const std::vector<float>& samples, int64_t n_frames, const SpectrogramParams& p) {
  const int64_t window = std::llround(p.window_s * p.sample_rate);
  if (window <= 0 || window > p.n_fft)
    throw std::invalid_argument(
        fmt::format("spectrogram window of {} samples must be within 1..{} (the DFT length)", window, p.n_fft));
  if (p.freq_bins <= 0 || p.freq_bins > p.n_fft / 2 + 1)
    throw std::invalid_argument(fmt::format("--freq-bins {} must be within 1..{}", p.freq_bins, p.n_fft / 2 + 1));
  if (n_frames <= 0) return {};

  // Frame starts follow the video's timestamps, so a non-integer hop (e.g. 30 fps) never drifts.
  const double hop = p.sample_rate / p.fps;
  torch::Tensor frames = torch::zeros({n_frames, window});
  auto acc = frames.accessor<float, 2>();
  const int64_t total = static_cast<int64_t>(samples.size());
  for (int64_t i = 0; i < n_frames; ++i) {
    const int64_t start = std::llround(i * hop);
    for (int64_t j = 0; j < window && start + j < total; ++j) acc[i][j] = samples[start + j];
  }
  const torch::Tensor w = torch::hann_window(window, /*periodic=*/true);
  const torch::Tensor spectrum = torch::fft::rfft(frames * w, p.n_fft, /*dim=*/1).narrow(1, 0, p.freq_bins);
  // A sine of amplitude A centred on a bin has |X| = A * sum(w) / 2 there.
  const double full_scale = std::pow(w.sum().item<double>() / 2.0, 2);
  const torch::Tensor power = spectrum.abs().pow(2) / full_scale;
  const torch::Tensor db = 10.0 * torch::log10(power.clamp_min(std::pow(10.0, p.floor_db / 10.0)));
  const torch::Tensor out = db.to(torch::kFloat).contiguous();
  return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

}  // namespace avf::pre
