// Streaming videos through the networks (core/data/stream.h): batches run on across video boundaries and
// are full but the last; each sequence meets the same batch whatever the number of ranks; the loader
// hands out, in order, exactly the batches make_batch builds; frames, sequences and the time split
// are counted. Runs on the e2e fixture's shards (AVF_TEST_SHARDS).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <numeric>

#include "core/base/config.h"
#include "core/data/feature_store.h"
#include "core/data/shard_reader.h"
#include "core/data/stage_data.h"
#include "core/data/stream.h"
#include "core/evaluation/feature_extraction.h"
#include "core/models/stage_model.h"
#include "dist/sampler.h"
#include "run_command.h"

using namespace avf;

namespace {

std::string shards() {
  const char* dir = std::getenv("AVF_TEST_SHARDS");
  return dir ? dir : "";
}

std::unique_ptr<StageData> visual_data() {
  Config c;
  c.train.stage = "visual";
  c.train.device = "cpu";
  c.data.shards = shards();
  c.data.crop_size = 24;
  return open_stage_data(c);
}

std::vector<size_t> all_videos(const StageData& d) {
  std::vector<size_t> v(d.videos().size());
  std::iota(v.begin(), v.end(), size_t(0));
  return v;
}

bool same(const std::vector<SequenceRef>& a, const std::vector<SequenceRef>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].video != b[i].video || a[i].first_sub != b[i].first_sub) return false;
  return true;
}

constexpr int64_t L = 8, S = 16;

TEST(Stream, BatchesRunAcrossVideosAndAreFullButTheLast) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  auto data = visual_data();
  const auto videos = all_videos(*data);
  const auto batches = covering_batches(*data, videos, videos, L, 4);
  std::vector<SequenceRef> flat, expected;
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i + 1 < batches.size()) {
      EXPECT_EQ(batches[i].size(), 4u) << "batch " << i;
    }
    flat.insert(flat.end(), batches[i].begin(), batches[i].end());
  }
  for (size_t v : videos) {
    const auto seqs = data->covering_sequences(v, L);
    expected.insert(expected.end(), seqs.begin(), seqs.end());
  }
  ASSERT_GT(expected.size(), 4u) << "the fixture should have more sequences than one batch";
  EXPECT_TRUE(same(flat, expected)) << "every covering sequence once, in order";
}

TEST(Stream, EachSequenceMeetsTheSameBatchOnAnyNumberOfRanks) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  auto data = visual_data();
  const auto videos = all_videos(*data);
  const auto one = covering_batches(*data, videos, videos, L, 4);
  for (int world : {2, 3}) {
    for (int rank = 0; rank < world; ++rank) {
      std::vector<size_t> mine;
      for (int64_t i : dist::shard_range(int64_t(videos.size()), world, rank)) mine.push_back(videos[i]);
      size_t covered = 0, expected = 0;
      for (size_t v : mine) expected += data->covering_sequences(v, L).size();
      for (const auto& b : covering_batches(*data, videos, mine, L, 4)) {
        EXPECT_TRUE(std::any_of(one.begin(), one.end(), [&](const auto& o) { return same(o, b); }))
            << world << " ranks, rank " << rank << ": a batch the single rank does not run";
        for (const auto& r : b) covered += std::count(mine.begin(), mine.end(), r.video);
      }
      EXPECT_EQ(covered, expected) << world << " ranks, rank " << rank << ": every sequence of its videos";
    }
  }
}

TEST(Stream, LoaderHandsOutTheBatchesInOrderAndCountsTheSplit) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  auto data = visual_data();
  const auto videos = all_videos(*data);
  const std::vector<size_t> mine(videos.begin(), videos.begin() + 2);
  const auto batches = covering_batches(*data, videos, mine, L, 4);
  StreamTimes times;
  size_t seen = 0;
  stream_batches(
      *data, batches, mine, L, S, {4, 2, 3},
      [&](const Batch& b) -> std::vector<torch::Tensor> { return {b.visual.sum()}; },
      [&](const Batch& b, const std::vector<torch::Tensor>& out) {
        ASSERT_LT(seen, batches.size());
        EXPECT_TRUE(same(b.refs, batches[seen]));
        EXPECT_TRUE(torch::equal(b.visual, data->make_batch(batches[seen], 0, false).visual));
        EXPECT_TRUE(torch::equal(out[0], b.visual.sum()));
        ++seen;
      },
      times);
  EXPECT_EQ(seen, batches.size());
  int64_t frames = 0, sequences = 0;
  for (size_t v : mine) frames += data->videos()[v].n_frames;
  for (const auto& b : batches) sequences += int64_t(b.size());
  EXPECT_EQ(times.videos, 2);
  EXPECT_EQ(times.frames, frames);
  EXPECT_EQ(times.sequences, sequences);
  EXPECT_EQ(times.batches, int64_t(batches.size()));
  EXPECT_EQ(times.network_frames, sequences * L * S);
  EXPECT_GT(times.forward, 0);
  EXPECT_GT(times.seconds(), 0);
  EXPECT_NEAR(times.frames_per_s(), frames / times.seconds(), 1e-6);
  const auto j = times.to_json();
  for (const char* key : {"frames", "frames_per_s", "data_s", "forward_s", "rest_s", "seconds", "network_frames"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_NE(times.summary().find("frames/s"), std::string::npos);
}

}  // namespace

// data.label-shift and data.label-median reach the labels a stage trains and validates on.
TEST(StageData, LabelAdjustmentReachesTheLabels) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  auto plain = visual_data();
  Config c;
  c.train.stage = "visual";
  c.train.device = "cpu";
  c.data.shards = shards();
  c.data.crop_size = 24;
  c.data.label_shift = {"valence:0.2"};
  auto shifted = open_stage_data(c);
  const auto& a = plain->frame_labels(0);
  const auto& b = shifted->frame_labels(0);
  const int64_t n = plain->videos()[0].n_frames, T = int64_t(plain->targets().size());
  const int64_t k = 5;  // 0.2 s at the fixture's 25 fps
  ASSERT_EQ(a.size(), b.size());
  int64_t differ = 0;
  for (int64_t f = 0; f < n; ++f) {
    EXPECT_EQ(b[f * T + 0], a[std::min(f + k, n - 1) * T + 0]) << "valence, frame " << f;
    EXPECT_EQ(b[f * T + 1], a[f * T + 1]) << "arousal, frame " << f;
    differ += b[f * T] != a[f * T];
  }
  EXPECT_GT(differ, 0) << "the fixture's valence should vary, or the shift is not seen";
}

// data.stride counts frames: stride 1 gives every start frame as a view (video, sub-sequence, offset),
// a superset of the grid-aligned sequences, and an off-grid sequence's labels and clips are those of
// its own frames.
TEST(StageData, AnyStrideGivesSequencesAtEveryFrame) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  auto data = visual_data();
  const auto grid = data->training_sequences("train", L, S, S);
  const auto every = data->training_sequences("train", L, S, 1);
  ASSERT_GT(every.size(), grid.size() * 8) << "about S times as many";
  size_t found = 0;
  for (const auto& g : grid)
    for (const auto& e : every) found += e.video == g.video && e.first_sub == g.first_sub && e.offset == 0;
  EXPECT_EQ(found, grid.size());
  const SequenceRef* off = nullptr;
  for (const auto& e : every)
    if (e.offset == 5) off = &e;
  ASSERT_NE(off, nullptr);
  const auto batch = data->make_batch({*off}, 7, false);
  const auto& labels = data->frame_labels(off->video);
  const int64_t T = int64_t(data->targets().size());
  for (int64_t l = 0; l < L; ++l)
    for (int64_t t = 0; t < T; ++t) {
      double sum = 0;
      for (int64_t f = (off->first_sub + l) * S + 5; f < (off->first_sub + l) * S + 5 + S; ++f)
        sum += labels[f * T + t];
      EXPECT_NEAR(batch.labels[0][l][t].item<float>(), sum / S, 1e-5) << "sub-sequence " << l << ", target " << t;
    }
  // The clip of sub-sequence 0 is the shard's rows from 5 frames past the grid (centre crop).
  const auto* reader = data->shard_reader();
  ASSERT_NE(reader, nullptr);
  const int64_t H = reader->face_height(), W = reader->face_width(), crop = 24;
  std::vector<uint8_t> rows(size_t(S) * crop * crop * 3);
  reader->read_face_crops(off->video, off->first_sub * S + 5, S, (H - crop) / 2, (W - crop) / 2, crop, false,
                          rows.data());
  const auto clip = batch.visual[0][0].contiguous();
  EXPECT_TRUE(std::equal(rows.begin(), rows.end(), clip.data_ptr<uint8_t>()));
}

// `avf extract --offsets`: the features at an offset past the grid are those of the clips a training
// sequence at that offset reads (the same batch through the same networks), their labels those of the
// clips' frames; offset 0 is the grid's unchanged. Written and read back, the fusion stage trains at
// any stride the offsets allow and names the missing offset otherwise.
TEST(StageData, FeaturesAtOffsetsAreThoseOfTheClipsThere) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  torch::manual_seed(3);
  Config c;
  c.train.device = "cpu";
  c.data.shards = shards();
  c.data.crop_size = 24;
  c.model.width = 0.0625;
  c.model.audio_width_div = 16;
  Config vc = c, ac = c;
  vc.train.stage = "visual", ac.train.stage = "audio";
  auto data = open_shard_data(c, &vc, &ac);
  const int64_t T = int64_t(data->targets().size());
  auto visual = make_stage_model(vc, T), audio = make_stage_model(ac, T);
  visual->module().eval(), audio->module().eval();
  const std::vector<size_t> videos{0, 1};
  StreamTimes times;
  StreamOptions o;
  o.batch_size = 4, o.reader_threads = 1;
  const auto grid = extract_features(*data, videos, videos, *visual, *audio, L, S, o, times);
  const auto both = extract_features(*data, videos, videos, *visual, *audio, L, S, o, times, {}, {0, 8});
  ASSERT_EQ(both[0].off_grid.size(), 1u);
  EXPECT_EQ(both[0].visual, grid[0].visual);
  EXPECT_EQ(both[0].sub_labels, grid[0].sub_labels);

  const auto& v = both[1];
  const auto& at8 = v.off_grid[0];
  EXPECT_EQ(at8.offset, 8);
  EXPECT_NE(at8.visual, v.visual) << "the clips 8 frames later should give other features";
  torch::NoGradGuard no_grad;
  const SequenceRef ref{1, 2, 8};  // sub-sequences 2..9 of video 1, 8 frames past the grid
  const auto batch = data->make_batch({ref}, 0, false);
  const auto vf = visual->features(batch), af = audio->features(batch);
  const int64_t Kv = vf.size(2), Ka = af.size(2);
  for (int64_t l = 0; l < L && ref.first_sub + l < v.n_sub; ++l) {
    const int64_t j = ref.first_sub + l;
    for (int64_t k = 0; k < Kv; ++k)
      ASSERT_NEAR(at8.visual[j * Kv + k], vf[0][l][k].item<float>(), 1e-5) << "row " << j << " feature " << k;
    for (int64_t k = 0; k < Ka; ++k) ASSERT_NEAR(at8.audio[j * Ka + k], af[0][l][k].item<float>(), 1e-5);
    for (int64_t t = 0; t < T; ++t) EXPECT_NEAR(at8.sub_labels[j * T + t], batch.labels[0][l][t].item<float>(), 1e-6);
  }

  const std::string dir = make_temp_dir("avf-offsets");
  write_features(dir, 0, both, data->targets());
  write_feature_manifest(dir, 1, data->targets(), {{"label-shift", nlohmann::json::array()}, {"label-median", 0}},
                         {0, 8});
  Config f;
  f.train.stage = "fusion";
  f.data.features = dir;
  f.data.train_partition = v.partition;
  auto fusion = open_stage_data(f);
  const auto every8 = fusion->training_sequences(f.data.train_partition, L, S, 8);
  int checked = 0;
  for (const auto& r : every8) {
    if (r.offset != 8 || fusion->videos()[r.video].id != v.id) continue;
    ++checked;
    const auto fb = fusion->make_batch({r}, 0, true);
    const int64_t j = std::min(r.first_sub, v.n_sub - 1);
    EXPECT_EQ(fb.visual[0][0][0].item<float>(), at8.visual[j * Kv]);
    EXPECT_EQ(fb.labels[0][0][0].item<float>(), at8.sub_labels[j * T]);
  }
  EXPECT_GT(checked, 0) << "no training sequence of " << v.id << " at offset 8";
  try {
    fusion->training_sequences(f.data.train_partition, L, S, 4);
    FAIL() << "stride 4 needs offsets 4 and 12, which were not extracted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("4 frames past the grid"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--offsets 4"), std::string::npos) << e.what();
  }
}
