// Sequence geometry of the paper, on the grid of sub-sequences: a video of N frames has
// ceil(N / S) sub-sequences of S frames (the last one ends at the last frame, overlapping its
// neighbour when N is not a multiple of S); a training sequence is L consecutive sub-sequences
// (128 frames = 8 x 16 at 25 fps = 5.12 s). Frame f belongs to sub-sequence min(f / S, n - 1).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace avf::geometry {

inline int64_t subsequences(int64_t frames, int64_t S) { return (frames + S - 1) / S; }
inline int64_t first_frame(int64_t sub, int64_t frames, int64_t S) { return std::min(sub * S, frames - S); }
inline int64_t subsequence_of(int64_t frame, int64_t n_sub, int64_t S) { return std::min(frame / S, n_sub - 1); }

// First sub-sequences of training sequences: every `step` sub-sequences while L fit (at least one).
inline std::vector<int64_t> training_starts(int64_t n_sub, int64_t L, int64_t step) {
  std::vector<int64_t> out;
  for (int64_t s = 0; s + L <= n_sub; s += step) out.push_back(s);
  if (out.empty()) out.push_back(0);
  return out;
}

// Sequences that cover every sub-sequence once for evaluation; the last is aligned to the end.
inline std::vector<int64_t> covering_starts(int64_t n_sub, int64_t L) {
  std::vector<int64_t> out;
  for (int64_t s = 0; s < n_sub; s += L) out.push_back(std::max<int64_t>(0, std::min(s, n_sub - L)));
  return out;
}

// The label of sub-sequence j: per target, the mean of its frames' labels [n_frames, T], ignoring
// NaN (missing); NaN when none of its frames is labelled.
inline void subsequence_label(const float* labels, int64_t frames, int64_t T, int64_t S, int64_t j, float* out) {
  const int64_t first = first_frame(j, frames, S);
  for (int64_t t = 0; t < T; ++t) {
    double sum = 0;
    int n = 0;
    for (int64_t f = first; f < first + S; ++f)
      if (!std::isnan(labels[f * T + t])) sum += labels[f * T + t], ++n;
    out[t] = n ? float(sum / n) : NAN;
  }
}

}  // namespace avf::geometry
