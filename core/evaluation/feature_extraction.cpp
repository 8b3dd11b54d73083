#include "core/evaluation/feature_extraction.h"

#include <torch/torch.h>

#include <map>
#include <tuple>

#include "core/base/lap.h"
#include "core/data/geometry.h"

namespace avf {
namespace {

// Copies row b's [L, K] features into its video's [n_sub, K] array (sub-sequences past the video's
// end are repeats of its last and are dropped).
void scatter(const float* feats, int64_t L, int64_t K, const SequenceRef& ref, int64_t n_sub, std::vector<float>& out) {
  out.resize(n_sub * K);
  for (int64_t l = 0; l < L && ref.first_sub + l < n_sub; ++l)
    std::copy_n(feats + l * K, K, out.data() + (ref.first_sub + l) * K);
}

}  // namespace

std::vector<VideoFeatures> extract_features(const StageData& data, const std::vector<size_t>& videos,
                                            const std::vector<size_t>& mine, StageModel& visual, StageModel& audio,
                                            int64_t L, int64_t S, const StreamOptions& o, StreamTimes& times,
                                            const std::function<void(int64_t)>& on_batch,
                                            const std::vector<int64_t>& offsets) {
  torch::NoGradGuard no_grad;
  std::vector<VideoFeatures> out(mine.size());
  std::map<size_t, VideoFeatures*> slot;
  for (size_t i = 0; i < mine.size(); ++i) {
    const auto& info = data.videos()[mine[i]];
    auto& v = out[i];
    v.id = info.id, v.partition = info.partition, v.n_frames = info.n_frames, v.n_sub = info.n_sub;
    v.frame_labels = data.frame_labels(mine[i]);
    for (int64_t offset : offsets)
      if (offset != 0) v.off_grid.push_back({offset, {}, {}, {}});
    slot[mine[i]] = &v;
  }
  const int64_t T = data.targets().size();
  const int64_t videos_before = times.videos;  // each offset's pass counts the frames again, not the videos
  for (size_t k = 0, off_grid = 0; k < offsets.size(); ++k) {
    const int64_t offset = offsets[k];
    const size_t entry = offset == 0 ? 0 : off_grid++;  // off_grid's entry of this offset
    // Where this offset's rows go: the grid's arrays, or the video's entry for the offset.
    auto rows = [offset,
                 entry](VideoFeatures& v) -> std::tuple<std::vector<float>&, std::vector<float>&, std::vector<float>&> {
      if (offset == 0) return {v.visual, v.audio, v.sub_labels};
      auto& g = v.off_grid[entry];
      return {g.visual, g.audio, g.sub_labels};
    };
    stream_batches(
        data, covering_batches(data, videos, mine, L, o.batch_size, offset), mine, L, S, o,
        [&](const Batch& b) -> std::vector<torch::Tensor> {
          return {visual.features(b).cpu().contiguous(), audio.features(b).cpu().contiguous()};
        },
        [&](const Batch& b, const std::vector<torch::Tensor>& f) {
          const int64_t Kv = f[0].size(2), Ka = f[1].size(2);
          int64_t done = 0;
          for (size_t i = 0; i < b.refs.size(); ++i) {
            auto it = slot.find(b.refs[i].video);
            if (it == slot.end()) continue;  // another rank's video in a shared batch
            const auto target = rows(*it->second);
            scatter(f[0].data_ptr<float>() + i * L * Kv, L, Kv, b.refs[i], it->second->n_sub, std::get<0>(target));
            scatter(f[1].data_ptr<float>() + i * L * Ka, L, Ka, b.refs[i], it->second->n_sub, std::get<1>(target));
            ++done;
          }
          if (on_batch) on_batch(done);
        },
        times);
    // Sub-sequence labels exactly as training computes them: of the clip each row was computed from.
    Lap lap;
    for (auto& v : out) {
      std::vector<float>& labels = std::get<2>(rows(v));
      labels.resize(v.n_sub * T);
      for (int64_t j = 0; j < v.n_sub; ++j)
        geometry::clip_label(v.frame_labels.data(), T, geometry::clip_start(j, offset, 0, v.n_frames, S), S,
                             labels.data() + j * T);
    }
    times.rest += lap();
  }
  times.videos = videos_before + int64_t(mine.size());
  return out;
}

VideoFeatures extract_video_features(const StageData& data, size_t video, StageModel& visual, StageModel& audio,
                                     int64_t L, int64_t S, const StreamOptions& o) {
  StreamTimes times;
  return std::move(extract_features(data, {video}, {video}, visual, audio, L, S, o, times).front());
}

}  // namespace avf
