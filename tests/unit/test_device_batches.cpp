// DeviceBatches (core/data/device_batches.h) on the CPU: the source's batches pass through unchanged,
// in order, and the end of the source ends it (the CUDA path, one batch ahead on a side stream, is
// checked by tests/cuda/test_cuda.cpp on a GPU).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/device_batches.h"

using namespace avf;

TEST(DeviceBatches, OnTheCpuTheSourcesBatchesPassThroughInOrder) {
  int made = 0;
  DeviceBatches batches(
      [&]() -> std::optional<Batch> {
        if (made == 3) return std::nullopt;
        Batch b;
        b.labels = torch::full({2, 4, 1}, float(made));
        b.visual = torch::full({2, 4, 16, 8, 8, 3}, made, torch::kUInt8);
        ++made;
        return b;
      },
      torch::kCPU);
  for (int k = 0; k < 3; ++k) {
    auto b = batches.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(made, k + 1) << "the CPU path reads no batch ahead";
    EXPECT_EQ(b->labels[0][0][0].item<float>(), float(k));
    EXPECT_EQ(b->visual.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(b->visual.device().is_cpu());
  }
  EXPECT_FALSE(batches.next().has_value());
}
