#include <gtest/gtest.h>

#include <set>

#include "dist/binding.h"
#include "dist/sampler.h"

using avf::dist::DistributedSampler;

TEST(Sampler, OneRankAndTwoRanksSeeTheSameGlobalBatches) {
  DistributedSampler one(103, 1, 0, 8, 42);
  DistributedSampler r0(103, 2, 0, 4, 42), r1(103, 2, 1, 4, 42);
  for (int epoch = 0; epoch < 3; ++epoch) {
    const auto a = one.epoch_batches(epoch), b0 = r0.epoch_batches(epoch), b1 = r1.epoch_batches(epoch);
    ASSERT_EQ(a.size(), 12u);  // 103 / 8 full global batches
    ASSERT_EQ(b0.size(), a.size());
    ASSERT_EQ(b1.size(), a.size());
    for (size_t s = 0; s < a.size(); ++s) {
      std::vector<int64_t> joined = b0[s];
      joined.insert(joined.end(), b1[s].begin(), b1[s].end());
      EXPECT_EQ(joined, a[s]) << "epoch " << epoch << " step " << s;
    }
  }
}

TEST(Sampler, DeterministicPerEpochAndAPermutation) {
  DistributedSampler s(50, 1, 0, 5, 7);
  EXPECT_EQ(s.permutation(3), DistributedSampler(50, 1, 0, 5, 7).permutation(3));
  EXPECT_NE(s.permutation(3), s.permutation(4));
  EXPECT_NE(s.permutation(3), DistributedSampler(50, 1, 0, 5, 8).permutation(3));
  const auto p = s.permutation(0);
  EXPECT_EQ(std::set<int64_t>(p.begin(), p.end()).size(), 50u);
}

TEST(Sampler, ShardRangeCoversEachItemOnce) {
  std::vector<int64_t> all;
  for (int r = 0; r < 3; ++r) {
    auto part = avf::dist::shard_range(10, 3, r);
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Binding, NoneReportsWithoutBinding) {
  auto b = avf::dist::bind_local_rank(0, 1, "none");
  EXPECT_GE(b.cores, 1);
  EXPECT_NE(b.description.find("not bound"), std::string::npos);
}
