// One JSON object per line (step, epoch, losses, CCC, throughput) so curves can be plotted and
// sweeps can read a trial's history without a database. Rank 0 writes; each line is flushed.
#pragma once
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace avf {

class MetricsLog {
 public:
  MetricsLog() = default;
  // Appends to `path` (creating parent directories) when `enabled`; otherwise every write is a no-op.
  MetricsLog(const std::string& path, bool enabled);
  void write(nlohmann::json record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

// Reads every record of a metrics file; a torn last line (killed writer) is skipped.
std::vector<nlohmann::json> read_metrics(const std::string& path);

}  // namespace avf
