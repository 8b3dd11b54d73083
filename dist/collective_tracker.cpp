#include "dist/collective_tracker.h"

#include <fmt/format.h>
#include <mpi.h>

#include <functional>
#include <stdexcept>


#include "core/exit_codes.h"
#include "core/log.h"
#include "dist/process_group.h"

namespace avf::dist {

void verify_same_call(MPI_Comm comm, int rank, const std::string& what, const std::string& signature) {
  // Every rank contributes h and -h; max(h) == -max(-h) only if all ranks hashed the same call.
  const int64_t h = static_cast<int64_t>(std::hash<std::string>{}(signature) >> 1);
  int64_t both[2] = {h, -h};
  if (MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_INT64_T, MPI_MAX, comm) != MPI_SUCCESS)
    throw std::runtime_error(what + ": the dist.debug cross-check failed");
  if (both[0] != -both[1])
    throw std::runtime_error(fmt::format("collective mismatch at '{}': rank {} called {}, another rank called "
                                         "something else (dist.debug)", what, rank, signature));
}

CollectiveTracker::CollectiveTracker(double timeout_s, std::function<void(const std::string&)> on_timeout)
    : timeout_s_(timeout_s), on_timeout_(std::move(on_timeout)) {
  if (!on_timeout_) on_timeout_ = [](const std::string& msg) { abort_job(exit_code::peer_failed, msg); };
  thread_ = std::thread([this] { run(); });
}

CollectiveTracker::~CollectiveTracker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t CollectiveTracker::begin(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t seq = next_seq_++;
  in_flight_[seq] = {name, std::chrono::steady_clock::now()};
  return seq;
}

void CollectiveTracker::end(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  in_flight_.erase(seq);
}

void CollectiveTracker::run() {
  // Check often enough that a timeout fires within ~1% of its length (at most every second).
  const auto period = std::chrono::duration<double>(std::min(1.0, std::max(0.01, timeout_s_ / 100)));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, period);
    if (stop_) break;
    if (poll_) {
      try {
        lock.unlock();
        poll_();
        lock.lock();
      } catch (const std::exception& e) {
        on_timeout_(fmt::format("rank {}: communicator failed: {}", world().rank, e.what()));
        lock.lock();
      }
    }
    if (in_flight_.empty()) continue;
    const auto& [seq, op] = *in_flight_.begin();  // the oldest collective
    const double age = std::chrono::duration<double>(std::chrono::steady_clock::now() - op.start).count();
    if (age > timeout_s_) {
      const std::string msg = fmt::format(
          "rank {}: collective '{}' (#{}) did not complete within {:.1f} s (dist.timeout): another rank "
          "failed, hangs or called a different collective; aborting the job",
          world().rank, op.name, seq, timeout_s_);
      lock.unlock();
      on_timeout_(msg);
      lock.lock();
      in_flight_.erase(seq);
    }
  }
}

}  // namespace avf::dist
