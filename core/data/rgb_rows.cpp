#include "core/data/rgb_rows.h"

#include <cstring>
#include <utility>

namespace avf {
namespace {

// 16 pixels (48 bytes, three 16-byte vectors) mirrored with byte shuffles: output byte j is input byte
// 3 * (15 - j / 3) + j % 3. Output vector 0 takes bytes 30..47 (inputs 1 and 2), vector 2 bytes 0..17
// (inputs 0 and 1), vector 1 bytes 15..32 (all three: input 1 and 0 first, then byte 32 from input 2).
typedef uint8_t Bytes16 __attribute__((vector_size(16)));

constexpr int source_byte(int j) { return 3 * (15 - j / 3) + j % 3; }

// Lane j of the shuffle mask selecting output bytes [16k, 16k + 16) from the pair of vectors (lo,
// lo + 1), as __builtin_shuffle numbers them: 0..15 the first vector, 16..31 the second.
constexpr uint8_t lane(int k, int lo, int j) {
  const int b = source_byte(16 * k + j) - 16 * lo;
  return uint8_t(b >= 0 && b < 32 ? b : 0);
}

template <size_t... J>
constexpr Bytes16 pair_mask(int k, int lo, std::index_sequence<J...>) {
  return Bytes16{lane(k, lo, int(J))...};
}

constexpr Bytes16 pair_mask(int k, int lo) { return pair_mask(k, lo, std::make_index_sequence<16>()); }

// Each shuffle compiles to byte shuffles (pshufb, tbl) where the target has them; the clones let
// an x86-64 build use SSSE3/AVX2 without requiring it.
#if defined(__x86_64__)
__attribute__((target_clones("avx2", "ssse3", "default")))
#endif
void mirror_blocks(const uint8_t* src_end, uint8_t* dst, int64_t blocks) {
  constexpr Bytes16 m0 = pair_mask(0, 1), m2 = pair_mask(2, 0), m1 = pair_mask(1, 0);
  // Output vector 1's byte 1 is input byte 32 (input vector 2's first): patched in after the pair shuffle.
  constexpr Bytes16 patch = {0, 16, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int64_t i = 0; i < blocks; ++i) {
    const uint8_t* s = src_end - 48 * (i + 1);  // the block's 16 source pixels, mirrored into dst's next 48 bytes
    Bytes16 a, b, c;
    std::memcpy(&a, s, 16);
    std::memcpy(&b, s + 16, 16);
    std::memcpy(&c, s + 32, 16);
    const Bytes16 o0 = __builtin_shuffle(b, c, m0);
    const Bytes16 o1 = __builtin_shuffle(__builtin_shuffle(a, b, m1), c, patch);
    const Bytes16 o2 = __builtin_shuffle(a, b, m2);
    std::memcpy(dst + 48 * i, &o0, 16);
    std::memcpy(dst + 48 * i + 16, &o1, 16);
    std::memcpy(dst + 48 * i + 32, &o2, 16);
  }
}

}  // namespace

void copy_rgb_mirrored(const uint8_t* src, uint8_t* dst, int64_t n) {
  const int64_t blocks = n / 16;
  mirror_blocks(src + 3 * n, dst, blocks);
  // The first n % 16 source pixels end the row.
  for (int64_t x = 16 * blocks; x < n; ++x) std::memcpy(dst + 3 * x, src + 3 * (n - 1 - x), 3);
}

}  // namespace avf
