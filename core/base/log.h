// Logging with fmt: "2026-11-26 02:00:00.123 [r0] message". Only rank 0 speaks unless all ranks
// were asked for; warnings and errors always print, since a failing rank must be heard.
#pragma once
#include <fmt/format.h>

#include <string>

namespace avf::log {

enum class Level { debug, info, warn, error };

void init(int rank, int world_size, bool all_ranks);
int rank();
void write(Level level, const std::string& message);

template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace avf::log
