// TensorPool (core/data/tensor_pool.h): a kept tensor is handed out again only when nothing outside
// the pool refers to it or its storage, with the sizes and dtype asked for; past its capacity the
// pool keeps new tensors only in place of unused ones.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/tensor_pool.h"

using avf::TensorPool;

TEST(TensorPool, HandsOutAgainOnlyWhatNobodyHolds) {
  TensorPool pool(4);
  auto a = pool.take({2, 3}, torch::kUInt8);
  const void* where = a.data_ptr();
  auto b = pool.take({2, 3}, torch::kUInt8);
  EXPECT_NE(b.data_ptr(), where) << "a held tensor was handed out";
  auto view = a.narrow(0, 1, 1);                                    // a view keeps its base tensor
  auto alias = torch::empty({0}, torch::kUInt8).set_(a.storage());  // this one only the storage
  a = torch::Tensor();
  EXPECT_NE(pool.take({2, 3}, torch::kUInt8).data_ptr(), where) << "a tensor with a live view was handed out";
  view = torch::Tensor();
  EXPECT_NE(pool.take({2, 3}, torch::kUInt8).data_ptr(), where) << "a tensor whose storage is shared was handed out";
  alias = torch::Tensor();
  EXPECT_EQ(pool.take({2, 3}, torch::kUInt8).data_ptr(), where);
  EXPECT_NE(pool.take({3, 2}, torch::kUInt8).data_ptr(), where) << "other sizes";
  EXPECT_NE(pool.take({2, 3}, torch::kFloat).data_ptr(), where) << "other dtype";
}

TEST(TensorPool, PastCapacityKeepsNewTensorsOnlyInPlaceOfUnusedOnes) {
  TensorPool pool(1);
  auto held = pool.take({4}, torch::kFloat);
  const void* held_at = held.data_ptr();
  const auto extra = pool.take({4}, torch::kFloat);  // full and the kept one in use: not kept
  held = torch::Tensor();
  auto again = pool.take({4}, torch::kFloat);
  EXPECT_EQ(again.data_ptr(), held_at) << "the one kept tensor";
  again = torch::Tensor();
  auto other = pool.take({8}, torch::kFloat);  // replaces the unused {4}
  const void* other_at = other.data_ptr();
  other = torch::Tensor();
  EXPECT_EQ(pool.take({8}, torch::kFloat).data_ptr(), other_at);
}
