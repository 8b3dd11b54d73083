#include "dist/collective_tracker.h"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "core/base/exit_codes.h"
#include "core/base/log.h"
#include "dist/process_group.h"
#include "dist/watchdog.h"

namespace avf::dist {

void verify_same_call(MPI_Comm comm, int rank, const std::string& what, const std::string& signature) {
  // Every rank contributes h and -h; max(h) == -max(-h) only if all ranks hashed the same call.
  const int64_t h = static_cast<int64_t>(std::hash<std::string>{}(signature) >> 1);
  int64_t both[2] = {h, -h};
  WatchedWait wait(fmt::format("the dist.debug cross-check before '{}'", what));
  if (MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_INT64_T, MPI_MAX, comm) != MPI_SUCCESS)
    throw std::runtime_error(what + ": the dist.debug cross-check failed");
  if (both[0] != -both[1])
    throw std::runtime_error(
        fmt::format("collective mismatch at '{}': rank {} called {}, another rank called "
                    "something else (dist.debug)",
                    what, rank, signature));
}

CollectiveTracker::CollectiveTracker(double timeout_s, std::function<void(const std::string&)> on_timeout)
    : timeout_s_(timeout_s), on_timeout_(std::move(on_timeout)) {}

CollectiveTracker::~CollectiveTracker() {
  if (poll_id_) Watchdog::instance().remove_poll(poll_id_);
  // Collectives never waited for end with their communicator, as they always did.
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [seq, id] : in_flight_) Watchdog::instance().end(id);
}

uint64_t CollectiveTracker::begin(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t seq = next_seq_++;
  in_flight_[seq] =
      Watchdog::instance().begin(fmt::format("collective '{}' (#{})", name, seq), timeout_s_, on_timeout_);
  return seq;
}

void CollectiveTracker::end(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = in_flight_.find(seq); it != in_flight_.end()) {
    Watchdog::instance().end(it->second);
    in_flight_.erase(it);
  }
}

void CollectiveTracker::set_poll(std::function<void()> poll) {
  // As often as timeouts are checked for: within ~1% of the timeout, at least every second.
  const double period = std::min(1.0, std::max(0.01, timeout_s_ / 100));
  poll_id_ = Watchdog::instance().add_poll(
      [this, poll = std::move(poll)] {
        try {
          poll();
        } catch (const std::exception& e) {
          const std::string message = fmt::format("{}: communicator failed: {}", this_rank(), e.what());
          if (on_timeout_) {
            on_timeout_(message);
          } else {
            abort_job(exit_code::peer_failed, message);
          }
        }
      },
      period);
}

}  // namespace avf::dist
