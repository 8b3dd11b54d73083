// The visual input path: crops copied row by row from the shards' chunks (and mirrored) equal the
// same crop cut out of whole frames; the loader's uint8 clips become exactly the floats the network
// used to get ((x / 127.5) - 1, channels first, blanked frames 0); data.flip mirrors some sequences
// and leaves the crop where it was; clip buffers are reused only once released; a thread's cached chunk
// never serves another reader or video. Runs on the e2e
// fixture's shards (AVF_TEST_SHARDS).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/base/config.h"
#include "core/data/shard_reader.h"
#include "core/data/stage_data.h"
#include "core/data/visual_input.h"

using namespace avf;

namespace {

std::string shards() {
  const char* dir = std::getenv("AVF_TEST_SHARDS");
  return dir ? dir : "";
}

// The visual stage on the fixture's shards, 24 px crops, on the CPU.
Config visual_config() {
  Config c;
  c.train.stage = "visual";
  c.train.device = "cpu";
  c.data.shards = shards();
  c.data.crop_size = 24;
  return c;
}

// [count, H, W, 3] of whole frames, as read_faces gives them.
torch::Tensor whole_frames(const ShardReader& r, size_t video, int64_t start, int64_t count) {
  auto t = torch::empty({count, r.face_height(), r.face_width(), 3}, torch::kUInt8);
  r.read_faces(video, start, count, t.data_ptr<uint8_t>());
  return t;
}

TEST(VisualInput, CropsFromChunksEqualCropsOfWholeFrames) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  ShardReader r(shards());
  const int64_t side = 20, y0 = 7, x0 = 3, start = 5, count = 40;  // spans chunk boundaries
  auto frames = whole_frames(r, 0, start, count);
  auto expected = frames.narrow(1, y0, side).narrow(2, x0, side).contiguous();
  auto crops = torch::empty({count, side, side, 3}, torch::kUInt8);
  r.read_face_crops(0, start, count, y0, x0, side, false, crops.data_ptr<uint8_t>());
  EXPECT_TRUE(torch::equal(crops, expected));
  r.read_face_crops(0, start, count, y0, x0, side, true, crops.data_ptr<uint8_t>());
  EXPECT_TRUE(torch::equal(crops, expected.flip({2})));
  EXPECT_THROW(r.read_face_crops(0, start, count, r.face_height() - 3, 0, side, false, crops.data_ptr<uint8_t>()),
               std::out_of_range);
}

TEST(VisualInput, ClipsBecomeTheNetworksFloatsInOnePass) {
  torch::manual_seed(2);
  auto faces = torch::randint(0, 256, {2, 3, 4, 6, 5, 3}, torch::kUInt8);
  auto blank = torch::zeros({2, 3, 4}, torch::kBool);
  blank[1][2][3] = true;
  auto expected = faces.permute({0, 1, 5, 2, 3, 4}).to(torch::kFloat).div(127.5).sub(1.0);
  auto clips = visual_clips(faces, torch::Tensor(), torch::kCPU);
  EXPECT_EQ(clips.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(clips, expected, 0, 1e-6));
  auto masked = visual_clips(faces, blank, torch::kCPU);
  EXPECT_EQ(masked[1][2].select(1, 3).abs().sum().item<double>(), 0.0);
  masked[1][2].select(1, 3).copy_(expected[1][2].select(1, 3));
  EXPECT_TRUE(torch::allclose(masked, expected, 0, 1e-6)) << "only the blanked frame may change";
}

TEST(VisualInput, FlipMirrorsSomeSequencesAndKeepsTheirCrops) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  Config c = visual_config();
  c.data.stride = 16;
  auto plain = open_stage_data(c);
  c.data.flip = true;
  auto flipping = open_stage_data(c);
  const int64_t L = c.data.sequence_frames / c.data.subsequence_frames;
  auto refs = plain->training_sequences("train", L, c.data.subsequence_frames, c.data.subsequence_frames);
  refs.resize(std::min<size_t>(refs.size(), 16));
  auto a = plain->make_batch(refs, 99, true).visual, b = flipping->make_batch(refs, 99, true).visual;
  int flipped = 0;
  for (int64_t i = 0; i < int64_t(refs.size()); ++i) {
    if (torch::equal(a[i], b[i])) continue;
    EXPECT_TRUE(torch::equal(a[i].flip({3}), b[i])) << "sequence " << i << " is neither the crop nor its mirror";
    ++flipped;
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, int(refs.size()));
  // Evaluation never flips.
  EXPECT_TRUE(torch::equal(plain->make_batch(refs, 99, false).visual, flipping->make_batch(refs, 99, false).visual));
}

// The uint8 clip buffers go round (core/data/tensor_pool.h): a batch nobody holds any more gives its
// buffer to the next one, which is filled completely (the same bytes as a fresh one); a batch still
// held keeps its own (tests/unit/test_tensor_pool.cpp: views and shared storage too).
TEST(VisualInput, ClipBuffersAreReusedOnlyOnceReleased) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  Config c = visual_config();
  auto data = open_stage_data(c);
  const int64_t L = c.data.sequence_frames / c.data.subsequence_frames;
  auto refs = data->training_sequences("train", L, c.data.subsequence_frames, c.data.subsequence_frames);
  ASSERT_GE(refs.size(), 4u);
  const std::vector<SequenceRef> one(refs.begin(), refs.begin() + 2), two(refs.begin() + 2, refs.begin() + 4);
  const auto expected = open_stage_data(c)->make_batch(two, 5, true).visual;
  auto held = data->make_batch(one, 5, true).visual;
  const void* first = held.data_ptr();
  auto other = data->make_batch(two, 5, true).visual;
  EXPECT_NE(other.data_ptr(), first) << "a held batch's buffer was handed out again";
  // Released, the buffer stays alive in the pool (malloc alone might hand out the same address too).
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> kept(held.getIntrusivePtr());
  held = torch::Tensor();
  EXPECT_FALSE(kept.expired()) << "released clip buffers are not kept";
  const auto reused = data->make_batch(two, 5, true).visual;
  EXPECT_EQ(reused.data_ptr(), first) << "released clip buffers are not reused";
  EXPECT_TRUE(torch::equal(reused, expected)) << "a reused buffer is not filled like a fresh one";
}

TEST(VisualInput, CachedChunkServesOnlyItsReaderAndVideo) {
  if (shards().empty()) GTEST_SKIP() << "AVF_TEST_SHARDS not set";
  // Each thread keeps the chunk it fetched last (keyed by reader, video and chunk): reads that
  // alternate between videos at the same rows, and between readers made and destroyed in turn, must
  // still get their own rows.
  ShardReader first(shards());
  ASSERT_GE(first.videos().size(), 2u);
  const int64_t n = 16;
  auto a = whole_frames(first, 0, 0, n), b = whole_frames(first, 1, 0, n);
  ASSERT_FALSE(torch::equal(a, b)) << "the fixture's videos should differ";
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(torch::equal(whole_frames(first, 1, 0, n), b));
    EXPECT_TRUE(torch::equal(whole_frames(first, 0, 0, n), a));
    auto other = std::make_unique<ShardReader>(shards());
    EXPECT_TRUE(torch::equal(whole_frames(*other, 1, 0, n), b));
    EXPECT_TRUE(torch::equal(whole_frames(first, 0, 0, n), a));
  }
  // Later rows of the same chunk come from the cached chunk: the same as a fresh reader's.
  ShardReader fresh(shards());
  EXPECT_TRUE(torch::equal(whole_frames(first, 0, n, n), whole_frames(fresh, 0, n, n)));
}

}  // namespace
