// Which sequences each rank trains on, step by step. One permutation of the whole dataset per epoch
// (from the seed and the epoch only), cut into global batches of per_rank_batch * world_size; rank r
// takes slice r of each. Hence every rank gets the same number of batches (no hang at epoch end),
// and one rank with batch 2B sees exactly the global batches that two ranks with batch B see.
#pragma once
#include <cstdint>
#include <vector>

namespace avf::dist {

class DistributedSampler {
 public:
  DistributedSampler(int64_t dataset_size, int world_size, int rank, int per_rank_batch, uint64_t seed,
                     bool shuffle = true);
  int64_t steps_per_epoch() const;  // full global batches; the remainder of an epoch is dropped
  // This rank's sample indices for every step of `epoch`.
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;
  // The permutation itself (Fisher-Yates on a 64-bit Mersenne Twister, identical on every platform).
  std::vector<int64_t> permutation(int64_t epoch) const;

 private:
  int64_t size_;
  int world_, rank_, batch_;
  uint64_t seed_;
  bool shuffle_;
};

// Splits [0, n) into `world` contiguous parts as evenly as possible (evaluation: each item once).
std::vector<int64_t> shard_range(int64_t n, int world, int rank);

}  // namespace avf::dist
