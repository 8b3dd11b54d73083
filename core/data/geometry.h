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

// First frame of sub-sequence l of a sequence whose first sub-sequence is `first_sub`, `offset` frames
// past the grid: sub-sequence indices past the end repeat the last, and every clip stays in the video.
inline int64_t clip_start(int64_t first_sub, int64_t offset, int64_t l, int64_t frames, int64_t S) {
  const int64_t sub = std::min(first_sub + l, subsequences(frames, S) - 1);
  return std::min(sub * S + offset, frames - S);
}

// Starts (in frames) of training sequences of L sub-sequences: every `stride` frames while the
// sequence fits (on the grid: while its L sub-sequences exist; off it: while its last clip ends in the
// video), at least one.
inline std::vector<int64_t> training_starts(int64_t frames, int64_t S, int64_t L, int64_t stride) {
  const int64_t n_sub = subsequences(frames, S);
  std::vector<int64_t> out;
  for (int64_t s = 0; s / S + L <= n_sub; s += stride) {
    const int64_t offset = s % S;
    if (offset == 0 || (s / S + L - 1) * S + offset + S <= frames) out.push_back(s);
  }
  if (out.empty()) out.push_back(0);
  return out;
}

// Sequences that cover every sub-sequence once for evaluation; the last is aligned to the end.
inline std::vector<int64_t> covering_starts(int64_t n_sub, int64_t L) {
  std::vector<int64_t> out;
  for (int64_t s = 0; s < n_sub; s += L) out.push_back(std::max<int64_t>(0, std::min(s, n_sub - L)));
  return out;
}

// The label of the clip of S frames from `first` (clip_label) or of sub-sequence j: per target, the
// mean of its frames' labels [n_frames, T], ignoring NaN (missing); NaN when none is labelled.
inline void clip_label(const float* labels, int64_t T, int64_t first, int64_t S, float* out) {
  for (int64_t t = 0; t < T; ++t) {
    double sum = 0;
    int n = 0;
    for (int64_t f = first; f < first + S; ++f)
      if (!std::isnan(labels[f * T + t])) sum += labels[f * T + t], ++n;
    out[t] = n ? float(sum / n) : NAN;
  }
}
inline void subsequence_label(const float* labels, int64_t frames, int64_t T, int64_t S, int64_t j, float* out) {
  clip_label(labels, T, first_frame(j, frames, S), S, out);
}

}  // namespace avf::geometry
