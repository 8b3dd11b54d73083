// Extracted features (`avf extract`), the input of the fusion stage: per video, one audio and one
// visual feature vector per sub-sequence, with the labels. Each rank writes its own HDF5 file
// (features-rNNNNN.h5, as *.partial then renamed); rank 0 writes features.json last (with "offsets").
//   /<video_id>/  attrs partition, n_frames
//     audio [n_sub, Ka]  visual [n_sub, Kv]  sub_labels [n_sub, T]  frame_labels [n_frames, T]  (float32)
//     offset-<o>/audio, visual, sub_labels   the same rows for clips o frames past the grid (extract
//                                            --offsets), so the fusion stage can train at any data.stride
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace avf {

// Rows j = 0..n_sub-1 of the clips that start `offset` frames past the sub-sequence grid, at frame
// min(j * S + offset, n_frames - S): what a training sequence at that offset reads (geometry::clip_start).
struct OffGridFeatures {
  int64_t offset = 0;
  std::vector<float> audio, visual, sub_labels;
};

struct VideoFeatures {
  std::string id, partition;
  int64_t n_frames = 0, n_sub = 0;
  std::vector<float> audio, visual, sub_labels, frame_labels;  // on the grid (offset 0)
  std::vector<OffGridFeatures> off_grid;                       // by increasing offset, > 0
};

class FeatureStore {
 public:
  explicit FeatureStore(const std::string& dir);  // reads and validates everything (it is small)
  const std::vector<std::string>& targets() const { return targets_; }
  int64_t audio_dim() const { return audio_dim_; }
  int64_t visual_dim() const { return visual_dim_; }
  const std::vector<VideoFeatures>& videos() const { return videos_; }
  // How the carried labels were adjusted; {"label-shift": [], "label-median": 0} for older features.
  const nlohmann::json& labels() const { return labels_; }
  // Offsets past the sub-sequence grid that every video has features for: {0} plus those of
  // `avf extract --offsets`.
  const std::vector<int64_t>& offsets() const { return offsets_; }

 private:
  std::vector<std::string> targets_;
  int64_t audio_dim_ = 0, visual_dim_ = 0;
  std::vector<VideoFeatures> videos_;
  nlohmann::json labels_;
  std::vector<int64_t> offsets_{0};
};

// Writes this rank's videos to <dir>/features-r<rank>.h5 (atomically: .partial, then rename).
void write_features(const std::string& dir, int rank, const std::vector<VideoFeatures>& videos,
                    const std::vector<std::string>& targets);
// Rank 0, after every rank wrote: features.json naming the files, dimensions, targets and videos,
// `labels` ({"label-shift": [...], "label-median": k}: how the labels the features carry were adjusted,
// core/data/label_adjust.h), `offsets` (0 and the off-grid ones every video has) and `throughput` when given (avf
// extract's per-rank frames/s and time split, core/data/stream.h).
void write_feature_manifest(const std::string& dir, int world_size, const std::vector<std::string>& targets,
                            const nlohmann::json& labels, const std::vector<int64_t>& offsets = {0},
                            const nlohmann::json& throughput = nullptr);

}  // namespace avf
