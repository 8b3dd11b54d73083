// One harness for every benchmark table (the nccl-tests convention): the same columns — what, size,
// time, algorithm bandwidth, bus bandwidth — printed and written as JSON, so results compare across
// runs and machines. algbw = bytes / time; busbw = algbw * 2 (n - 1) / n for an all-reduce over n ranks.
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace avf {

class BenchTable {
 public:
  // Only `printing` (rank 0) prints and saves; every rank may call row().
  BenchTable(std::string title, int ranks, bool printing)
      : title_(std::move(title)), ranks_(ranks), printing_(printing) {
    json_ = {{"benchmark", title_}, {"ranks", ranks_}, {"rows", nlohmann::json::array()}};
  }
  void header() const {
    if (!printing_) return;
    std::printf("# %s, %d rank%s\n# %-36s %12s %12s %12s %12s\n", title_.c_str(), ranks_, ranks_ == 1 ? "" : "s",
                "what", "size (B)", "time (us)", "algbw (GB/s)", "busbw (GB/s)");
  }
  // `extra` fields (e.g. frames_per_s) go into the row's JSON only.
  void row(const std::string& what, double bytes, double seconds,
           const nlohmann::json& extra = nlohmann::json::object()) {
    const double algbw = bytes / seconds / 1e9;
    const double busbw = algbw * 2.0 * (ranks_ - 1) / ranks_;
    nlohmann::json r{
        {"what", what}, {"bytes", bytes}, {"seconds", seconds}, {"algbw_gbps", algbw}, {"busbw_gbps", busbw}};
    r.update(extra);
    json_["rows"].push_back(std::move(r));
    if (!printing_) return;
    std::printf("  %-36s %12.0f %12.1f %12.3f %12.3f\n", what.c_str(), bytes, seconds * 1e6, algbw, busbw);
    std::fflush(stdout);
  }
  void save(const std::string& path) const {
    if (printing_ && !path.empty()) std::ofstream(path) << json_.dump(2) << "\n";
  }
  nlohmann::json& json() { return json_; }

 private:
  std::string title_;
  int ranks_;
  bool printing_;
  nlohmann::json json_;
};

}  // namespace avf
