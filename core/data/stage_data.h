// What each training stage reads, as sequences of L sub-sequences:
//   visual: face clips       [B, L, S, crop, crop, 3] uint8 RGB (random crop, and flip with data.flip,
//           when training), as stored: the conversion to floats happens once, on the model's device
//           (core/data/visual_input.h); `visual_blank` [B, L, S] marks frames to blank (data.face-policy mask)
//   audio:  spectrogram windows [B, L, 1, W, F], each normalised to zero mean and unit variance
//   fusion: extracted features  audio [B, L, Ka], visual [B, L, Kv]
// and labels [B, L, T]: the NaN-aware mean of the frame labels of each sub-sequence.
#pragma once
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/config.h"

namespace avf {

class ShardReader;

// A sequence is a view: a video and where its L sub-sequences start, nothing copied. Sub-sequence l
// covers frames [min(first_sub + l, n_sub - 1) * S + offset, ... + S), kept inside the video.
struct SequenceRef {
  size_t video;        // index into videos()
  int64_t first_sub;   // first of the L sub-sequences (indices past the video's end repeat its last)
  int64_t offset = 0;  // frames past the sub-sequence grid, 0..S-1: training sequences at any data.stride
};

struct Batch {
  torch::Tensor audio, visual, labels;
  torch::Tensor visual_blank;  // undefined unless data.face-policy is mask
  std::vector<SequenceRef> refs;
};

struct VideoInfo {
  std::string id, partition;
  int64_t n_frames;
  int64_t n_sub;
};

class StageData {
 public:
  virtual ~StageData() = default;
  virtual const std::vector<VideoInfo>& videos() const = 0;
  virtual const std::vector<std::string>& targets() const = 0;
  // Frame labels [n_frames, T] of one video (for per-frame evaluation).
  virtual const std::vector<float>& frame_labels(size_t video) const = 0;
  // Assembles one batch. `seed` drives the random crop, so a batch is the same whichever loader
  // thread builds it and whenever; `train` selects random (train) or centre (eval) crops.
  virtual Batch make_batch(const std::vector<SequenceRef>& refs, uint64_t seed, bool train) const = 0;

  // The shards behind the data (visual and audio stages), for benchmarks of raw reads.
  virtual const ShardReader* shard_reader() const { return nullptr; }
  // Whether a training sequence may be used (face-policy=skip drops sequences with too few faces).
  virtual bool usable(const SequenceRef&) const { return true; }
  // The offsets past the sub-sequence grid sequences may start at: shards every one (empty = all);
  // extracted features those they were extracted at (avf extract --offsets).
  virtual std::vector<int64_t> offsets() const { return {}; }

  // Training sequences of L sub-sequences of S frames starting every `stride` frames (any stride >= 1;
  // for the fusion stage, every start's offset past the grid must be one the features were extracted at).
  std::vector<SequenceRef> training_sequences(const std::string& partition, int64_t L, int64_t S, int64_t stride) const;
  std::vector<SequenceRef> covering_sequences(size_t video, int64_t L) const;
  std::vector<size_t> videos_in(const std::string& partition) const;
};

// Visual and audio stages read the preprocessed shards; the fusion stage reads extracted features.
std::unique_ptr<StageData> open_stage_data(const Config& config);
// Shards with the chosen inputs in every batch (extraction and prediction need both modalities);
// geometry from `config`, the visual crop and audio window from the given per-modality configs.
std::unique_ptr<StageData> open_shard_data(const Config& config, const Config* visual, const Config* audio);

}  // namespace avf
