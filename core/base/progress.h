// Progress of long work: a redrawn bar on a terminal, periodic plain lines with rate and ETA
// elsewhere (SLURM logs), nothing when off. Only rank 0 shows it.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace avf {

class Progress {
 public:
  // mode: auto | bar | lines | off (log.progress); interval: seconds between plain lines.
  Progress(std::string label, int64_t total, std::string unit, const std::string& mode = "auto",
           double interval_s = 10.0);
  ~Progress();
  void advance(int64_t n = 1, const std::string& note = "");
  void finish();
  double rate() const;  // units per second so far

 private:
  void draw(bool final_line);
  std::string label_, unit_, note_;
  int64_t total_, done_ = 0;
  bool bar_ = false, enabled_ = true, finished_ = false;
  double interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);

}  // namespace avf
