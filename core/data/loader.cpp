#include "core/data/loader.h"

#include <chrono>

namespace avf {

uint64_t batch_seed(uint64_t seed, uint64_t index) {
  // splitmix64 of the pair: well-mixed and identical everywhere.
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + index + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Loader::Loader(const StageData& data, std::vector<std::vector<SequenceRef>> batches, size_t first, uint64_t seed,
               bool train, int threads, int prefetch)
    : data_(data), batches_(std::move(batches)), seed_(seed), train_(train), prefetch_(std::max(1, prefetch)) {
  next_out_ = next_in_ = std::min(first, batches_.size());
  for (int t = 0; t < std::max(1, threads); ++t) threads_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Loader::work() {
  for (;;) {
    size_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock,
               [this] { return stop_ || error_ || (next_in_ < batches_.size() && next_in_ < next_out_ + prefetch_); });
      if (stop_ || error_ || next_in_ >= batches_.size()) return;
      index = next_in_++;
    }
    try {
      Batch b = data_.make_batch(batches_[index], batch_seed(seed_, index), train_);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(index, std::move(b));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_out_ >= batches_.size()) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  cv_.wait(lock, [this] { return error_ || ready_.count(next_out_); });
  wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (error_) std::rethrow_exception(error_);
  Batch b = std::move(ready_.at(next_out_));
  ready_.erase(next_out_++);
  lock.unlock();
  cv_.notify_all();
  return b;
}

}  // namespace avf
