// Shard planning, sizes, chunking and the writer's all-or-nothing file.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/data/shard_format.h"
#include "preprocess/plan.h"
#include "preprocess/shard_summary.h"
#include "preprocess/shard_writer.h"
#include "run_command.h"

using namespace avf;
namespace fs = std::filesystem;

TEST(Plan, PacksLongestFirstAndBalancesRanks) {
  // Video 1 failed probing (-1). 10 bytes per frame, shards up to 900 bytes.
  const auto plan = pre::plan_shards({30, -1, 80, 50, 20, 10}, 10, 900, 2);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].videos, (std::vector<size_t>{2}));     // 800
  EXPECT_EQ(plan[1].videos, (std::vector<size_t>{3, 0}));  // 500 + 300
  EXPECT_EQ(plan[2].videos, (std::vector<size_t>{4, 5}));  // 200 + 100
  EXPECT_EQ(plan[1].bytes, 800u);
  EXPECT_EQ(plan[0].rank, 0);  // largest first, each to the least loaded rank (ties: lower index)
  EXPECT_EQ(plan[1].rank, 1);
  EXPECT_EQ(plan[2].rank, 0);
  const auto one = pre::plan_shards({30, 80}, 10, 1, 1);  // a video larger than the shard size gets its own
  EXPECT_EQ(one.size(), 2u);
}

TEST(Plan, EveryRankGetsShardsWhenTheDatasetFitsInOne) {
  const auto plan = pre::plan_shards(std::vector<int64_t>(12, 1500), 3072, 2ull << 30, 2);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].videos.size(), 6u);
  EXPECT_NE(plan[0].rank, plan[1].rank);
}

TEST(Plan, ParsesSizes) {
  EXPECT_EQ(pre::parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(pre::parse_size("500MB"), 500000000u);
  EXPECT_EQ(pre::parse_size("1.5KiB"), 1536u);
  EXPECT_EQ(pre::parse_size("4096"), 4096u);
  EXPECT_THROW(pre::parse_size("2 GiB"), std::invalid_argument);
  EXPECT_THROW(pre::parse_size("GiB"), std::invalid_argument);
  EXPECT_THROW(pre::parse_size("-1MB"), std::invalid_argument);
}

TEST(ShardFormat, ChunksHoldAboutOneMebibyte) {
  EXPECT_EQ(shard::rows_per_chunk(224 * 224 * 3, 0), 8u);
  EXPECT_EQ(shard::rows_per_chunk(64 * 64 * 3, 0), 64u);
  EXPECT_EQ(shard::rows_per_chunk(129 * 4, 0), 2048u);
  EXPECT_EQ(shard::rows_per_chunk(129 * 4, 300), 300u);
  EXPECT_EQ(shard::shard_file_name(7), "shard-00007.h5");
}

TEST(ShardWriter, CompressionSpellings) {
  EXPECT_EQ(pre::parse_compression("none").gzip_level, 0);
  EXPECT_EQ(pre::parse_compression("gzip").gzip_level, 4);
  EXPECT_EQ(pre::parse_compression("gzip:9").to_string(), "gzip:9");
  EXPECT_THROW(pre::parse_compression("gzip:0"), std::invalid_argument);
  EXPECT_THROW(pre::parse_compression("lzf"), std::invalid_argument);
}

TEST(ShardWriter, OnlyACommittedShardExistsAndReadsBack) {
  const std::string dir = make_temp_dir("avf-shard");
  const std::string path = dir + "/" + shard::shard_file_name(0);
  const std::vector<uint8_t> face(4 * 4 * 3, 7);
  {
    pre::ShardWriter w(path, "{}", "abc", {});
    w.begin_video("train_1", 4);
    w.append_face(face.data());
    EXPECT_TRUE(fs::exists(path + ".partial"));
    EXPECT_FALSE(fs::exists(path));
  }  // destroyed without commit: nothing is left
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_FALSE(fs::exists(path));

  pre::ShardWriter w(path, "{\"fps\":25}", "abc", {});
  w.begin_video("bad", 4);
  w.append_face(face.data());
  w.abort_video();
  w.begin_video("train_1", 4);
  for (int i = 0; i < 3; ++i) w.append_face(face.data());
  pre::VideoAttrs a;
  a.id = "train_1";
  a.partition = "train";
  w.end_video(a, {1, 0, 1}, std::vector<float>(12, 1.0f), std::vector<float>(6, -3.0f), 2, std::vector<float>(3, 0.5f),
              {"valence"});
  EXPECT_THROW(w.end_video(a, {1}, {}, {}, 2, {}, {"valence"}), std::logic_error);  // frame counts disagree
  w.commit(R"([{"id":"bad","reason":"test"}])");
  const auto info = pre::read_shard_info(path);
  EXPECT_EQ(info.params, "{\"fps\":25}");
  EXPECT_EQ(info.inputs_sha256, "abc");
  EXPECT_EQ(info.failed, R"([{"id":"bad","reason":"test"}])");
  ASSERT_EQ(info.videos.size(), 1u);
  EXPECT_EQ(info.videos[0].id, "train_1");
  EXPECT_EQ(info.videos[0].n_frames, 3);
  EXPECT_EQ(info.videos[0].face_frames, 2);
}
