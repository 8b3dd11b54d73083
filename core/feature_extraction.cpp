#include "core/feature_extraction.h"

#include <torch/torch.h>

#include "core/geometry.h"

namespace avf {
namespace {

// Copies [B, L, K] features of `refs` into the video's [n_sub, K] array.
void scatter(const torch::Tensor& feats, const std::vector<SequenceRef>& refs, int64_t n_sub, std::vector<float>& out) {
  const int64_t L = feats.size(1), K = feats.size(2);
  out.resize(n_sub * K);
  auto f = feats.contiguous();
  for (size_t b = 0; b < refs.size(); ++b)
    for (int64_t l = 0; l < L && refs[b].first_sub + l < n_sub; ++l)
      std::copy_n(f.data_ptr<float>() + (b * L + l) * K, K, out.data() + (refs[b].first_sub + l) * K);
}

}  // namespace

VideoFeatures extract_video_features(const StageData& data, size_t video, StageModel& visual, StageModel& audio,
                                     int64_t L, int64_t S, int batch_size, torch::Device device,
                                     const std::function<void(int64_t)>& on_batch) {
  torch::NoGradGuard no_grad;
  const auto& info = data.videos()[video];
  VideoFeatures v;
  v.id = info.id, v.partition = info.partition, v.n_frames = info.n_frames, v.n_sub = info.n_sub;
  const auto sequences = data.covering_sequences(video, L);
  for (size_t at = 0; at < sequences.size(); at += size_t(batch_size)) {
    std::vector<SequenceRef> refs(sequences.begin() + at, sequences.begin() + std::min(sequences.size(), at + size_t(batch_size)));
    Batch b = data.make_batch(refs, 0, false);
    b.visual = b.visual.to(device), b.audio = b.audio.to(device);
    scatter(visual.features(b).cpu(), refs, v.n_sub, v.visual);
    scatter(audio.features(b).cpu(), refs, v.n_sub, v.audio);
    if (on_batch) on_batch(int64_t(refs.size()));
  }
  // Sub-sequence labels exactly as training computes them.
  const int64_t T = data.targets().size();
  v.frame_labels = data.frame_labels(video);
  v.sub_labels.resize(v.n_sub * T);
  for (int64_t j = 0; j < v.n_sub; ++j)
    geometry::subsequence_label(v.frame_labels.data(), v.n_frames, T, S, j, v.sub_labels.data() + j * T);
  return v;
}

}  // namespace avf
