#include "core/evaluation/postprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/evaluation/ccc.h"

namespace avf {

std::vector<double> median_filter(const std::vector<double>& x, int window) {
  if (window < 1 || window % 2 == 0) throw std::invalid_argument("median_filter: window must be odd and positive");
  const long n = static_cast<long>(x.size()), half = window / 2;
  std::vector<double> sorted, out(x.size());
  // A sorted copy of the window slides along: one insertion and one removal per step.
  for (long i = 0; i < std::min(half, n); ++i)
    sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), x[i]), x[i]);
  for (long t = 0; t < n; ++t) {
    if (t + half < n) sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), x[t + half]), x[t + half]);
    if (t - half - 1 >= 0) sorted.erase(std::lower_bound(sorted.begin(), sorted.end(), x[t - half - 1]));
    size_t m = sorted.size();
    out[t] = m % 2 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
  }
  return out;
}

std::vector<double> delay(const std::vector<double>& x, int frames) {
  if (frames < 0) throw std::invalid_argument("delay: frames must be non-negative");
  std::vector<double> out(x.size());
  for (size_t t = 0; t < x.size(); ++t) out[t] = x[t >= size_t(frames) ? t - frames : 0];
  return out;
}

namespace {

// The "off" setting (window 1, shift 0) followed by the grid min, min + step, … ≤ max in frames.
std::vector<int> frame_grid(int off, double min_s, double max_s, double step_s, double fps, bool odd) {
  if (step_s <= 0 || fps <= 0) throw std::invalid_argument("PostprocessSearch: steps and fps must be positive");
  std::vector<int> frames{off};
  for (long i = 0; min_s + i * step_s <= max_s + 1e-9; ++i) {
    int f = static_cast<int>(std::lround((min_s + i * step_s) * fps));
    frames.push_back(odd ? f | 1 : f);
  }
  // Frames are never below "off", so after sorting duplicates of it are adjacent too.
  std::sort(frames.begin() + 1, frames.end());
  frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
  return frames;
}

// Steps (ii)-(iv) on median-filtered predictions: centre, scale about the label mean, delay.
void centre_scale_delay(const std::vector<double>& filtered, const PostprocessParams& p, std::vector<double>& out) {
  out.resize(filtered.size());
  for (size_t t = 0; t < filtered.size(); ++t)
    out[t] = p.center + p.scale * (filtered[t >= size_t(p.shift) ? t - p.shift : 0] + p.bias - p.center);
}

// CCC of the chain's output pooled over videos; `buffer` is reused across the many calls of a fit.
double pooled_ccc(const std::vector<std::vector<double>>& filtered, const std::vector<Series>& videos,
                  const PostprocessParams& p, std::vector<double>& buffer) {
  CccStats stats;
  for (size_t v = 0; v < videos.size(); ++v) {
    centre_scale_delay(filtered[v], p, buffer);
    stats.add(buffer, videos[v].label);
  }
  return stats.ccc();
}

}  // namespace

PostprocessParams fit_postprocess(const std::vector<Series>& videos, const PostprocessSearch& search) {
  for (const auto& v : videos)
    if (v.prediction.size() != v.label.size())
      throw std::invalid_argument("fit_postprocess: predictions and labels of different lengths");
  auto windows = frame_grid(1, search.min_window_s, search.max_window_s, search.window_step_s, search.fps, true);
  auto shifts = frame_grid(0, search.min_shift_s, search.max_shift_s, search.shift_step_s, search.fps, false);
  PostprocessParams best;
  best.fit_ccc = -INFINITY;
  std::vector<double> buffer;
  for (int window : windows) {
    std::vector<std::vector<double>> filtered;
    CccStats moments;
    for (const auto& v : videos) {
      filtered.push_back(median_filter(v.prediction, window));
      moments.add(filtered.back(), v.label);
    }
    if (moments.count() == 0) throw std::invalid_argument("fit_postprocess: no labelled frames");
    PostprocessParams p;
    p.window = window;
    p.center = moments.mean_y();
    p.bias = moments.mean_y() - moments.mean_x();
    p.scale = moments.var_x() > 0 ? std::sqrt(moments.var_y() / moments.var_x()) : 1.0;
    for (int shift : shifts) {
      p.shift = shift;
      p.fit_ccc = pooled_ccc(filtered, videos, p, buffer);
      // Strictly greater: among equal scores the smallest window and shift (the gentlest chain) win.
      if (p.fit_ccc > best.fit_ccc) best = p;
    }
  }
  return best;
}

std::vector<double> apply_postprocess(const std::vector<double>& prediction, const PostprocessParams& p) {
  std::vector<double> out;
  centre_scale_delay(median_filter(prediction, p.window), p, out);
  return out;
}

}  // namespace avf
