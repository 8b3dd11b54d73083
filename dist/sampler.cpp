#include "dist/sampler.h"

#include <numeric>
#include <random>
#include <stdexcept>

namespace avf::dist {

DistributedSampler::DistributedSampler(int64_t dataset_size, int world_size, int rank, int per_rank_batch,
                                       uint64_t seed, bool shuffle)
    : size_(dataset_size), world_(world_size), rank_(rank), batch_(per_rank_batch), seed_(seed), shuffle_(shuffle) {
  if (world_ <= 0 || rank_ < 0 || rank_ >= world_ || batch_ <= 0)
    throw std::invalid_argument("DistributedSampler: bad world size, rank or batch size");
}

int64_t DistributedSampler::steps_per_epoch() const { return size_ / (int64_t(batch_) * world_); }

std::vector<int64_t> DistributedSampler::permutation(int64_t epoch) const {
  std::vector<int64_t> perm(size_);
  std::iota(perm.begin(), perm.end(), 0);
  if (!shuffle_) return perm;
  // std::shuffle and the std distributions differ between standard libraries; this does not.
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + uint64_t(epoch));
  for (int64_t i = size_ - 1; i > 0; --i) {
    const uint64_t bound = uint64_t(i) + 1;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // rejection keeps it unbiased
    uint64_t r;
    do r = rng();
    while (r >= limit);
    std::swap(perm[i], perm[r % bound]);
  }
  return perm;
}

std::vector<std::vector<int64_t>> DistributedSampler::epoch_batches(int64_t epoch) const {
  const auto perm = permutation(epoch);
  const int64_t global = int64_t(batch_) * world_;
  std::vector<std::vector<int64_t>> out(steps_per_epoch());
  for (int64_t s = 0; s < steps_per_epoch(); ++s) {
    const auto begin = perm.begin() + s * global + int64_t(rank_) * batch_;
    out[s].assign(begin, begin + batch_);
  }
  return out;
}

std::vector<int64_t> shard_range(int64_t n, int world, int rank) {
  std::vector<int64_t> out;
  for (int64_t i = n * rank / world; i < n * (rank + 1) / world; ++i) out.push_back(i);
  return out;
}

}  // namespace avf::dist
