// Prefetching loader: reader threads assemble batches (HDF5 chunk fetch + decompression + crops)
// ahead of the training step, at most `prefetch` batches ahead, and hand them out in order.
// Each batch's randomness comes from (seed, batch index) alone, so the result does not depend on
// which thread built it: training is deterministic given the seed.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/data/stage_data.h"

namespace avf {

class Loader {
 public:
  // Serves batches[first..]; batch k's randomness is batch_seed(seed, k), so a run resumed in the
  // middle of an epoch sees exactly the batches the uninterrupted run saw.
  Loader(const StageData& data, std::vector<std::vector<SequenceRef>> batches, size_t first, uint64_t seed, bool train,
         int threads, int prefetch);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::optional<Batch> next();                     // the next batch in order; nullopt at the end
  double wait_seconds() const { return wait_s_; }  // time next() spent blocked on the readers

 private:
  void work();
  const StageData& data_;
  std::vector<std::vector<SequenceRef>> batches_;
  uint64_t seed_;
  bool train_;
  int prefetch_;
  size_t next_out_ = 0, next_in_ = 0;
  std::map<size_t, Batch> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  double wait_s_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

uint64_t batch_seed(uint64_t seed, uint64_t index);

}  // namespace avf
