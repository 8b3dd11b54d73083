// The loader's mirrored row copy (core/data/rgb_rows.h) against the pixel-by-pixel definition, at every
// length through two vector blocks and the tail, from unaligned addresses, with the bytes around the
// destination untouched.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/data/rgb_rows.h"

TEST(RgbRows, MirroredCopyIsThePixelsInReverseOrder) {
  for (int64_t n = 0; n <= 70; ++n)
    for (int64_t misalign = 0; misalign < 3; ++misalign) {
      std::vector<uint8_t> src(3 * n + 8), dst(3 * n + 8, 0xEE);
      for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 37 + 11);
      const uint8_t* from = src.data() + misalign;
      avf::copy_rgb_mirrored(from, dst.data() + 1, n);
      EXPECT_EQ(dst[0], 0xEE) << "n " << n;
      for (int64_t x = 0; x < n; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(dst[1 + 3 * x + c], from[3 * (n - 1 - x) + c]) << "n " << n << ", pixel " << x << ", byte " << c;
      for (size_t i = 1 + 3 * n; i < dst.size(); ++i) ASSERT_EQ(dst[i], 0xEE) << "n " << n << ": wrote past the row";
    }
}

// At the paper's face size: 224 pixels = 14 whole blocks, no tail.
TEST(RgbRows, AFaceRowOf224Pixels) {
  std::vector<uint8_t> src(3 * 224), dst(3 * 224);
  for (int x = 0; x < 224; ++x) src[3 * x] = uint8_t(x), src[3 * x + 1] = uint8_t(255 - x), src[3 * x + 2] = 7;
  avf::copy_rgb_mirrored(src.data(), dst.data(), 224);
  for (int x = 0; x < 224; ++x) {
    EXPECT_EQ(dst[3 * x], uint8_t(223 - x));
    EXPECT_EQ(dst[3 * x + 1], uint8_t(255 - (223 - x)));
    EXPECT_EQ(dst[3 * x + 2], 7);
  }
}
