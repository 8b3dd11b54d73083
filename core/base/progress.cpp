#include "core/base/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "core/base/log.h"

namespace avf {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const int total = static_cast<int>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02d}m", total / 3600, total % 3600 / 60);
  if (total >= 60) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

Progress::Progress(std::string label, int64_t total, std::string unit, const std::string& mode, double interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), interval_s_(interval_s) {
  enabled_ = mode != "off" && log::rank() == 0;
  bar_ = mode == "bar" || (mode == "auto" && isatty(STDERR_FILENO));
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

double Progress::rate() const {
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return dt > 0 ? done_ / dt : 0.0;
}

void Progress::advance(int64_t n, const std::string& note) {
  done_ += n;
  if (!note.empty()) note_ = note;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (bar_ ? 0.2 : interval_s_)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_line) {
  if (!enabled_) return;
  const double r = rate();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = r > 0 && total_ > 0 ? (total_ - done_) / r : -1;
  const std::string counts =
      total_ > 0 ? fmt::format("{}/{} {}", done_, total_, unit_) : fmt::format("{} {}", done_, unit_);
  const std::string tail = final_line ? fmt::format("{:.1f} {}/s, took {}", r, unit_, format_duration(elapsed))
                                      : fmt::format("{:.1f} {}/s, ETA {}", r, unit_, format_duration(eta));
  const std::string note = note_.empty() ? "" : " " + note_;
  if (bar_) {
    constexpr int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * std::min<int64_t>(done_, total_) / total_) : 0;
    std::fprintf(stderr, "\r%s [%s%s] %s, %s%s\033[K%s", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), counts.c_str(), tail.c_str(), note.c_str(),
                 final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    log::info("{}: {}, {}{}", label_, counts, tail, note);
  }
}

}  // namespace avf
