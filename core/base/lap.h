// A stopwatch read in laps: each call returns the seconds since the previous one (or construction).
// Header-only, so every library can time its stages.
#pragma once
#include <chrono>

namespace avf {

class Lap {
 public:
  double operator()() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace avf
