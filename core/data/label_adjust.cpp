#include "core/data/label_adjust.h"

#include <algorithm>
#include <cmath>

namespace avf {
namespace {

// Median of the non-NaN values of column t over rows [lo, hi).
float window_median(const std::vector<float>& x, int64_t T, int64_t t, int64_t lo, int64_t hi) {
  std::vector<float> w;
  for (int64_t f = lo; f < hi; ++f)
    if (!std::isnan(x[f * T + t])) w.push_back(x[f * T + t]);
  if (w.empty()) return NAN;
  const size_t mid = w.size() / 2;
  std::nth_element(w.begin(), w.begin() + mid, w.end());
  if (w.size() % 2 == 1) return w[mid];
  const float upper = w[mid];
  return (*std::max_element(w.begin(), w.begin() + mid) + upper) / 2;  // an even count: the middle pair's mean
}

}  // namespace

void adjust_labels(std::vector<float>& labels, int64_t n, const std::vector<std::string>& targets, double fps,
                   const LabelAdjustment& a) {
  const int64_t T = int64_t(targets.size());
  if (a.median > 1) {
    const std::vector<float> in = labels;
    const int64_t half = a.median / 2;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < n; ++f)
        labels[f * T + t] = window_median(in, T, t, std::max<int64_t>(0, f - half), std::min(n, f + half + 1));
  }
  for (int64_t t = 0; t < T; ++t) {
    const auto it = a.shift_seconds.find(targets[t]);
    if (it == a.shift_seconds.end() || n == 0) continue;
    const int64_t k = std::llround(it->second * fps);
    if (k == 0) continue;
    std::vector<float> column(n);
    for (int64_t f = 0; f < n; ++f) column[f] = labels[std::clamp<int64_t>(f + k, 0, n - 1) * T + t];
    for (int64_t f = 0; f < n; ++f) labels[f * T + t] = column[f];
  }
}

}  // namespace avf
