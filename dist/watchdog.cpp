#include "dist/watchdog.h"

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base/exit_codes.h"
#include "core/base/log.h"
#include "dist/process_group.h"

namespace avf::dist {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<double> g_timeout_s{0};  // 0: not set, default_wait_timeout() applies

// The rank number for the test hook: -1 when unknown.
int rank_number() {
  if (const ProcessGroup* pg = world_if_known()) return pg->rank;
  return launcher_rank();
}

// AVF_TEST_STOP_AT=<prefix>:<rank>, parsed once. The rank is after the last ':' (names hold ':').
struct StopAt {
  std::string prefix;
  int rank = -1;
  std::atomic<bool> armed{false};
  StopAt() {
    const char* v = std::getenv("AVF_TEST_STOP_AT");
    if (!v) return;
    const std::string text = v;
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return;
    try {
      rank = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
      return;
    }
    prefix = text.substr(0, colon);
    armed = true;
  }
};

void maybe_stop_for_test(const std::string& what) {
  static StopAt stop_at;
  if (!stop_at.armed.load(std::memory_order_relaxed) || what.rfind(stop_at.prefix, 0) != 0) return;
  if (rank_number() != stop_at.rank || !stop_at.armed.exchange(false)) return;
  log::warn("AVF_TEST_STOP_AT: {} stops itself (SIGSTOP) as it begins: {}", this_rank(), what);
  std::raise(SIGSTOP);
}

}  // namespace

double default_wait_timeout() {
  if (const char* v = std::getenv("AVF_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && *end == '\0' && s > 0) return s;
    log::warn("AVF_DIST_TIMEOUT='{}' is not a positive number of seconds; using 600", v);
  }
  return 600;
}

void set_wait_timeout(double seconds) { g_timeout_s = seconds; }

double wait_timeout() {
  const double s = g_timeout_s.load();
  return s > 0 ? s : default_wait_timeout();
}

std::string this_rank() {
  const int r = rank_number();
  return r < 0 ? "rank ?" : fmt::format("rank {}", r);
}

struct Watchdog::Impl {
  struct Wait {
    std::string what;
    double timeout_s;
    Clock::time_point deadline;
    OnTimeout on_timeout;
  };
  struct Poll {
    std::function<void()> fn;
    Clock::duration period;
    Clock::time_point next;
  };
  std::mutex mutex;  // guards everything below
  std::condition_variable cv;
  std::map<uint64_t, Wait> waits;  // by id: the oldest first
  std::map<uint64_t, Poll> polls;
  uint64_t next_id = 1;
  bool started = false;
  Clock::time_point next_wake = Clock::time_point::max();  // when the thread wakes next
  // Held while a poll runs, so that remove_poll() can wait for a running one to finish.
  std::mutex poll_running;

  void start(Watchdog* w) {  // with `mutex` held
    if (started) return;
    started = true;
    // Detached: the watchdog lives as long as the process, and a thread blocked on a condition
    // variable does not hold up exit.
    std::thread([w] { w->run(); }).detach();
  }
  void wake_by(Clock::time_point t) {  // with `mutex` held
    if (t < next_wake) {
      next_wake = t;
      cv.notify_one();
    }
  }
};

Watchdog& Watchdog::instance() {
  // Never destroyed: waits run until the last instant (MPI_Finalize at exit) and static
  // destructors must not race the thread.
  static Watchdog* w = new Watchdog;
  return *w;
}

Watchdog::Watchdog() : impl_(new Impl) {}

uint64_t Watchdog::begin(std::string what, double timeout_s, OnTimeout on_timeout) {
  maybe_stop_for_test(what);
  // At most ~30 years, so that the deadline cannot overflow the clock.
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(std::min(timeout_s, 1e9)));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const uint64_t id = impl_->next_id++;
  impl_->waits.emplace(id, Impl::Wait{std::move(what), timeout_s, deadline, std::move(on_timeout)});
  impl_->start(this);
  impl_->wake_by(deadline);
  return id;
}

void Watchdog::end(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->waits.erase(id);
  }
  // The job is being aborted, yet this wait completed: the launcher wakes a stopped rank (SIGCONT)
  // on its way to killing it, which can let a collective finish. This thread must not go on to
  // write results (a manifest, a checkpoint) of a job declared failed: it waits for the end here.
  while (job_aborting()) pause();
}

uint64_t Watchdog::add_poll(std::function<void()> poll, double period_s) {
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(period_s));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const uint64_t id = impl_->next_id++;
  impl_->polls.emplace(id, Impl::Poll{std::move(poll), period, Clock::now() + period});
  impl_->start(this);
  impl_->wake_by(Clock::now() + period);
  return id;
}

void Watchdog::remove_poll(uint64_t id) {
  std::scoped_lock lock(impl_->poll_running, impl_->mutex);
  impl_->polls.erase(id);
}

void Watchdog::run() {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mutex);
  for (;;) {
    Clock::time_point wake = Clock::time_point::max();
    for (const auto& [id, w] : m.waits) wake = std::min(wake, w.deadline);
    for (const auto& [id, p] : m.polls) wake = std::min(wake, p.next);
    m.next_wake = wake;
    if (wake == Clock::time_point::max()) {
      m.cv.wait(lock);
    } else {
      m.cv.wait_until(lock, wake);
    }
    const auto now = Clock::now();
    std::vector<uint64_t> due_polls;
    for (auto& [id, p] : m.polls)
      if (p.next <= now) due_polls.push_back(id), p.next = now + p.period;
    for (uint64_t id : due_polls) {
      lock.unlock();
      std::string error;
      {
        std::lock_guard<std::mutex> running(m.poll_running);
        std::function<void()> fn;
        {
          std::lock_guard<std::mutex> relock(m.mutex);
          if (auto it = m.polls.find(id); it != m.polls.end()) fn = it->second.fn;
        }
        try {
          if (fn) fn();
        } catch (const std::exception& e) {
          error = e.what();
        }
      }
      if (!error.empty()) abort_job(exit_code::peer_failed, fmt::format("{}: {}", this_rank(), error));
      lock.lock();
    }
    // Every wait past its deadline, the oldest first. The message goes out with the lock released:
    // the default handler does not return, a test's may begin and end waits.
    for (auto it = m.waits.begin(); it != m.waits.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      Impl::Wait w = std::move(it->second);
      it = m.waits.erase(it);
      const std::string message = fmt::format(
          "{}: {} did not complete within {:.1f} s (dist.timeout): another rank failed, stopped or hangs, or the "
          "ranks called different collectives; aborting the job",
          this_rank(), w.what, w.timeout_s);
      lock.unlock();
      if (w.on_timeout) {
        w.on_timeout(message);
      } else {
        abort_job(exit_code::peer_failed, message);
      }
      lock.lock();
      it = m.waits.begin();  // the map may have changed meanwhile
    }
  }
}

WatchedWait::WatchedWait(std::string what, double timeout_s, OnTimeout on_timeout)
    : id_(Watchdog::instance().begin(std::move(what), timeout_s, std::move(on_timeout))) {}

WatchedWait::~WatchedWait() { Watchdog::instance().end(id_); }

}  // namespace avf::dist
