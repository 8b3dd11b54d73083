#include "core/data/stage_data.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "core/data/feature_store.h"
#include "core/data/geometry.h"
#include "core/data/label_adjust.h"
#include "core/data/loader.h"
#include "core/data/shard_reader.h"
#include "core/data/tensor_pool.h"

namespace avf {
namespace {

bool uses_cuda(const Config& c) {
  return c.train.device == "cuda" || (c.train.device == "auto" && torch::cuda::is_available());
}

class ShardStageData : public StageData {
 public:
  ShardStageData(const Config& c, const Config* visual, const Config* audio)
      : reader_(c.data.shards), data_(c.data), visual_(visual != nullptr), audio_(audio != nullptr) {
    S_ = c.data.subsequence_frames;
    L_ = c.data.sequence_frames / S_;
    window_ = audio ? audio->data.audio_window : c.data.audio_window;
    const int crop = visual ? visual->data.crop_size : c.data.crop_size;
    crop_ = crop > 0 ? crop : std::min(reader_.face_height(), reader_.face_width());
    pinned_ = visual_ && uses_cuda(c);
    if (crop_ > reader_.face_height() || crop_ > reader_.face_width())
      throw ConfigError(fmt::format("data.crop-size {} is larger than the shards' faces ({}x{})", crop_,
                                    reader_.face_height(), reader_.face_width()));
    // Labels in the order of data.targets (any subset of the dataset's targets).
    std::vector<size_t> columns;
    for (const auto& t : c.data.targets) {
      auto it = std::find(reader_.targets().begin(), reader_.targets().end(), t);
      if (it == reader_.targets().end())
        throw ConfigError(fmt::format("data.targets names '{}' but the dataset in {} has targets {}", t, reader_.dir(),
                                      fmt::join(reader_.targets(), ", ")));
      columns.push_back(size_t(it - reader_.targets().begin()));
    }
    targets_ = c.data.targets;
    const LabelAdjustment adjustment{label_shifts(c), c.data.label_median};
    for (const auto& v : reader_.videos()) {
      const size_t all = reader_.targets().size();
      std::vector<float> labels(v.n_frames * columns.size());
      for (int64_t f = 0; f < v.n_frames; ++f)
        for (size_t t = 0; t < columns.size(); ++t) labels[f * columns.size() + t] = v.labels[f * all + columns[t]];
      if (adjustment.active()) adjust_labels(labels, v.n_frames, targets_, reader_.fps(), adjustment);
      labels_.push_back(std::move(labels));
      if (v.n_frames < S_)
        throw std::runtime_error(fmt::format("{}: video '{}' has {} frames, fewer than one sub-sequence ({})",
                                             reader_.dir(), v.id, v.n_frames, S_));
      videos_.push_back({v.id, v.partition, v.n_frames, geometry::subsequences(v.n_frames, S_)});
    }
  }
  const std::vector<VideoInfo>& videos() const override { return videos_; }
  const std::vector<std::string>& targets() const override { return targets_; }
  const std::vector<float>& frame_labels(size_t v) const override { return labels_[v]; }
  const ShardReader* shard_reader() const override { return &reader_; }
  bool usable(const SequenceRef& r) const override {
    if (!visual_ || data_.face_policy != "skip") return true;
    const auto& v = reader_.videos()[r.video];
    int64_t found = 0, total = 0;
    for (int64_t l = 0; l < L_; ++l) {
      const int64_t first = clip_start(r, l);
      for (int64_t f = first; f < first + S_; ++f) found += v.face_found[f], ++total;
    }
    return double(found) / total >= data_.min_face_rate;
  }

  Batch make_batch(const std::vector<SequenceRef>& refs, uint64_t seed, bool train) const override {
    const int64_t B = refs.size(), T = targets().size();
    Batch batch;
    batch.refs = refs;
    batch.labels = torch::empty({B, L_, T});
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t l = 0; l < L_; ++l)
        geometry::clip_label(labels_[refs[b].video].data(), T, clip_start(refs[b], l), S_,
                             batch.labels.data_ptr<float>() + (b * L_ + l) * T);
    }
    if (visual_) faces(refs, seed, train, batch);
    if (audio_) batch.audio = spectrograms(refs);
    return batch;
  }

 private:
  int64_t clip_start(const SequenceRef& r, int64_t l) const {
    return geometry::clip_start(r.first_sub, r.offset, l, videos_[r.video].n_frames, S_);
  }

  // Crops copied row by row from the stored chunks into one uint8 tensor (pinned when a GPU will take
  // it, so the copy to the device can run asynchronously); no float conversion here.
  void faces(const std::vector<SequenceRef>& refs, uint64_t seed, bool train, Batch& batch) const {
    const int64_t B = refs.size(), H = reader_.face_height(), W = reader_.face_width();
    const std::vector<int64_t> sizes{B, L_, S_, crop_, crop_, 3};
    batch.visual = pinned_ ? torch::empty(sizes, torch::TensorOptions(torch::kUInt8).pinned_memory(true))
                           : clip_buffers_.take(sizes, torch::kUInt8);
    const bool mask = data_.face_policy == "mask";
    if (mask) batch.visual_blank = torch::zeros({B, L_, S_}, torch::kBool);
    uint8_t* out = batch.visual.data_ptr<uint8_t>();
    const int64_t clip_bytes = S_ * crop_ * crop_ * 3;
    for (int64_t b = 0; b < B; ++b) {
      const auto& v = reader_.videos()[refs[b].video];
      // One crop (and one flip) per sequence, as a camera would: random when training, centred
      // otherwise. Drawn from the batch's seed and the sequence itself, not from its place in the
      // batch, so a global batch split over ranks gets the crops one process would draw for it.
      // (Off the grid the offset joins the seed; on it the seed is what it always was.)
      const uint64_t where = uint64_t(refs[b].first_sub) + (uint64_t(refs[b].offset) << 40);
      std::mt19937_64 rng(batch_seed(batch_seed(seed, refs[b].video), where));
      const int64_t y0 = train ? int64_t(rng() % (H - crop_ + 1)) : (H - crop_) / 2;
      const int64_t x0 = train ? int64_t(rng() % (W - crop_ + 1)) : (W - crop_) / 2;
      const bool flip = train && data_.flip && (rng() & 1);
      for (int64_t l = 0; l < L_; ++l) {
        const int64_t first = clip_start(refs[b], l);
        reader_.read_face_crops(refs[b].video, first, S_, y0, x0, crop_, flip, out + (b * L_ + l) * clip_bytes);
        if (mask) {
          // Frames without a face carry no facial information: blanked after conversion (0 = mid grey).
          auto blank = batch.visual_blank[b][l];
          for (int64_t s = 0; s < S_; ++s)
            if (!v.face_found[first + s]) blank[s] = true;
        }
      }
    }
  }

  torch::Tensor spectrograms(const std::vector<SequenceRef>& refs) const {
    const int64_t B = refs.size(), F = reader_.freq_bins(), R = reader_.spectrogram_rows_per_frame();
    auto out = torch::empty({B, L_, 1, window_, F});
    for (int64_t b = 0; b < B; ++b) {
      const auto& v = reader_.videos()[refs[b].video];
      for (int64_t l = 0; l < L_; ++l) {
        // The window of W spectrogram rows (R per frame) centred on the sub-sequence, edge rows
        // repeated at the ends of the video.
        const int64_t centre = (clip_start(refs[b], l) + S_ / 2) * R;
        float* dst = out.data_ptr<float>() + (b * L_ + l) * window_ * F;
        for (int64_t r = 0; r < window_; ++r) {
          const int64_t row = std::clamp<int64_t>(centre - window_ / 2 + r, 0, v.n_frames * R - 1);
          std::copy_n(v.spectrogram.data() + row * F, F, dst + r * F);
        }
        normalise(dst, window_ * F);
      }
    }
    return out;
  }

  // Mean and variance normalisation per window, as the paper does per spectrogram: plain loops over
  // the window while it is in cache (five tensor operations per window cost as much as the copy,
  // and on a tiny audio network the windows of a batch cost a tenth of its forward pass). Partial
  // sums in independent lanes, so the loops vectorise without reassociating one long chain.
  static void normalise(float* x, int64_t n) {
    constexpr int kLanes = 8;
    auto sum = [&](auto term) {
      double lanes[kLanes] = {};
      int64_t i = 0;
      for (; i + kLanes <= n; i += kLanes)
        for (int k = 0; k < kLanes; ++k) lanes[k] += term(x[i + k]);
      double total = 0;
      for (; i < n; ++i) total += term(x[i]);
      for (double v : lanes) total += v;
      return total;
    };
    const double mean = sum([](float v) { return double(v); }) / double(n);
    const double var = sum([mean](float v) { return (v - mean) * (v - mean); }) / double(n);
    const float m = float(mean), d = float(std::sqrt(var)) + 1e-5f;
    for (int64_t i = 0; i < n; ++i) x[i] = (x[i] - m) / d;
  }

  ShardReader reader_;
  std::vector<std::string> targets_;
  std::vector<std::vector<float>> labels_;  // per video [n_frames, targets_]
  DataConfig data_;
  bool visual_, audio_;
  int64_t S_, L_, window_, crop_;
  bool pinned_ = false;  // a CUDA device will take the clips
  // The loader's batches in flight (prefetch 2 per thread, up to 4 threads) and the consumer's.
  mutable TensorPool clip_buffers_{12};
  std::vector<VideoInfo> videos_;
};

class FeatureStageData : public StageData {
 public:
  FeatureStageData(const Config& c) : store_(c.data.features) {
    if (store_.targets() != c.data.targets)
      throw ConfigError(
          fmt::format("data.targets ({}) differ from the targets the features in {} were extracted for ({})",
                      fmt::join(c.data.targets, ","), c.data.features, fmt::join(store_.targets(), ",")));
    // The features carry the labels their extraction adjusted (core/data/label_adjust.h); a fusion
    // configuration may repeat that adjustment, not change it.
    const auto& carried = store_.labels();
    const bool set_here = !c.data.label_shift.empty() || c.data.label_median != 0;
    if (set_here && (carried.value("label-shift", std::vector<std::string>{}) != c.data.label_shift ||
                     carried.value("label-median", 0) != c.data.label_median))
      throw ConfigError(fmt::format(
          "data.label-shift ({}) / data.label-median ({}) differ from the labels the features in {} carry ({}): set "
          "them when training the audio and visual networks, whose extraction adjusts the labels",
          fmt::join(c.data.label_shift, ","), c.data.label_median, c.data.features, carried.dump()));
    L_ = c.data.sequence_frames / c.data.subsequence_frames;
    for (const auto& v : store_.videos()) videos_.push_back({v.id, v.partition, v.n_frames, v.n_sub});
  }
  const std::vector<VideoInfo>& videos() const override { return videos_; }
  const std::vector<std::string>& targets() const override { return store_.targets(); }
  const std::vector<float>& frame_labels(size_t v) const override { return store_.videos()[v].frame_labels; }
  std::vector<int64_t> offsets() const override { return store_.offsets(); }

  Batch make_batch(const std::vector<SequenceRef>& refs, uint64_t, bool) const override {
    const int64_t B = refs.size(), T = targets().size(), Ka = store_.audio_dim(), Kv = store_.visual_dim();
    Batch batch;
    batch.refs = refs;
    batch.audio = torch::empty({B, L_, Ka});
    batch.visual = torch::empty({B, L_, Kv});
    batch.labels = torch::empty({B, L_, T});
    for (int64_t b = 0; b < B; ++b) {
      const auto& v = store_.videos()[refs[b].video];
      const float *audio = v.audio.data(), *visual = v.visual.data(), *labels = v.sub_labels.data();
      if (refs[b].offset != 0) {
        const auto& o = off_grid(v, refs[b].offset);
        audio = o.audio.data(), visual = o.visual.data(), labels = o.sub_labels.data();
      }
      for (int64_t l = 0; l < L_; ++l) {
        const int64_t j = std::min(refs[b].first_sub + l, v.n_sub - 1);
        std::copy_n(audio + j * Ka, Ka, batch.audio.data_ptr<float>() + (b * L_ + l) * Ka);
        std::copy_n(visual + j * Kv, Kv, batch.visual.data_ptr<float>() + (b * L_ + l) * Kv);
        std::copy_n(labels + j * T, T, batch.labels.data_ptr<float>() + (b * L_ + l) * T);
      }
    }
    return batch;
  }

 private:
  static const OffGridFeatures& off_grid(const VideoFeatures& v, int64_t offset) {
    for (const auto& o : v.off_grid)
      if (o.offset == offset) return o;
    throw std::logic_error(fmt::format("{}: no features at offset {} (training_sequences checks)", v.id, offset));
  }

  FeatureStore store_;
  int64_t L_;
  std::vector<VideoInfo> videos_;
};

}  // namespace

std::vector<size_t> StageData::videos_in(const std::string& partition) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < videos().size(); ++i)
    if (videos()[i].partition == partition) out.push_back(i);
  return out;
}

std::vector<SequenceRef> StageData::training_sequences(const std::string& partition, int64_t L, int64_t S,
                                                       int64_t stride) const {
  if (stride < 1) throw ConfigError(fmt::format("data.stride ({}) must be at least 1 frame", stride));
  const auto have = offsets();
  if (!have.empty())
    for (int64_t s = 0; s < S * stride; s += stride)
      if (std::find(have.begin(), have.end(), s % S) == have.end())
        throw ConfigError(fmt::format(
            "data.stride ({}) starts sequences {} frames past the grid of data.subsequence-frames ({}), but the "
            "features were extracted at offsets {} only: extract them with `avf extract --offsets {}` (or use a "
            "stride the offsets allow)",
            stride, s % S, S, fmt::join(have, ","), S / std::gcd(stride, S)));
  std::vector<SequenceRef> out;
  for (size_t v : videos_in(partition))
    for (int64_t s : geometry::training_starts(videos()[v].n_frames, S, L, stride)) {
      const SequenceRef ref{v, s / S, s % S};
      if (usable(ref)) out.push_back(ref);
    }
  return out;
}

std::vector<SequenceRef> StageData::covering_sequences(size_t video, int64_t L) const {
  std::vector<SequenceRef> out;
  for (int64_t s : geometry::covering_starts(videos()[video].n_sub, L)) out.push_back({video, s});
  return out;
}

std::unique_ptr<StageData> open_stage_data(const Config& c) {
  if (c.train.stage == "fusion") {
    if (c.data.features.empty()) throw ConfigError("the fusion stage reads extracted features: set data.features");
    return std::make_unique<FeatureStageData>(c);
  }
  if (c.data.shards.empty())
    throw ConfigError(fmt::format("the {} stage reads shards: set data.shards", c.train.stage));
  return open_shard_data(c, c.train.stage == "visual" ? &c : nullptr, c.train.stage == "audio" ? &c : nullptr);
}

std::unique_ptr<StageData> open_shard_data(const Config& c, const Config* visual, const Config* audio) {
  if (c.data.shards.empty()) throw ConfigError("set data.shards to the output directory of `avf preprocess`");
  return std::make_unique<ShardStageData>(c, visual, audio);
}

}  // namespace avf
