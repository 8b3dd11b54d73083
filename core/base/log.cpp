#include "core/base/log.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace avf::log {
namespace {
int g_rank = 0;
int g_world = 1;
bool g_all_ranks = false;
bool g_debug = std::getenv("AVF_DEBUG") != nullptr;
std::mutex g_mutex;

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:03d}", buf, ms);
}
}  // namespace

void init(int rank, int world_size, bool all_ranks) {
  g_rank = rank;
  g_world = world_size;
  g_all_ranks = all_ranks;
}

int rank() { return g_rank; }

void write(Level level, const std::string& message) {
  if (level == Level::debug && !g_debug) return;
  if (level <= Level::info && g_rank != 0 && !g_all_ranks) return;
  static const char* tags[] = {"debug ", "", "warning: ", "error: "};
  const std::string line = g_world > 1 ? fmt::format("{} [r{}] {}{}\n", timestamp(), g_rank, tags[int(level)], message)
                                       : fmt::format("{} {}{}\n", timestamp(), tags[int(level)], message);
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace avf::log
