// The watchdog over waits on other ranks (dist/watchdog.h), in one process: a wait past its timeout
// is reported once with its name, a wait that ends in time never is, and polls stop when removed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "dist/watchdog.h"

using namespace avf::dist;
using namespace std::chrono_literals;

namespace {

struct Messages {
  std::mutex mutex;
  std::vector<std::string> got;
  OnTimeout sink() {
    return [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mutex);
      got.push_back(m);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return got;
  }
};

}  // namespace

TEST(Watchdog, AWaitPastItsTimeoutIsReportedOnceNamingItAndTheTimeout) {
  Messages m;
  const auto start = std::chrono::steady_clock::now();
  {
    WatchedWait wait("step-boundary vote (test)", 0.2, m.sink());
    std::this_thread::sleep_for(600ms);
  }
  ASSERT_EQ(m.get().size(), 1u);
  EXPECT_NE(m.get()[0].find("step-boundary vote (test) did not complete within 0.2 s (dist.timeout)"),
            std::string::npos)
      << m.get()[0];
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Watchdog, WaitsThatEndInTimeAreNeverReportedWhateverTheirOrder) {
  Messages m;
  auto& w = Watchdog::instance();
  const uint64_t slow = w.begin("slow", 0.5, m.sink());
  for (int i = 0; i < 50; ++i) {
    WatchedWait quick("quick", 0.3, m.sink());
    std::this_thread::sleep_for(2ms);
  }
  w.end(slow);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(m.get().empty()) << m.get()[0];
}

TEST(Watchdog, AnEarlierDeadlineWakesTheWatchdog) {
  // A long wait first, then a short one: the short one must still be caught at its own deadline.
  Messages m;
  WatchedWait long_wait("long", 60, m.sink());
  const auto start = std::chrono::steady_clock::now();
  {
    WatchedWait short_wait("short", 0.1, m.sink());
    while (m.get().empty() && std::chrono::steady_clock::now() - start < 3s) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(m.get().size(), 1u);
  EXPECT_NE(m.get()[0].find("short did not complete"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(Watchdog, PollsRunUntilRemoved) {
  std::atomic<int> runs{0};
  auto& w = Watchdog::instance();
  const uint64_t id = w.add_poll([&] { ++runs; }, 0.01);
  std::this_thread::sleep_for(200ms);
  w.remove_poll(id);
  const int after = runs;
  EXPECT_GT(after, 3);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(runs, after);
}

TEST(Watchdog, DefaultTimeoutComesFromTheEnvironment) {
  setenv("AVF_DIST_TIMEOUT", "7.5", 1);
  EXPECT_EQ(default_wait_timeout(), 7.5);
  setenv("AVF_DIST_TIMEOUT", "soon", 1);
  EXPECT_EQ(default_wait_timeout(), 600);
  unsetenv("AVF_DIST_TIMEOUT");
  EXPECT_EQ(default_wait_timeout(), 600);
  set_wait_timeout(42);
  EXPECT_EQ(wait_timeout(), 42);
}
