// The dataset's manifest.json, written by rank 0 after every rank has written its shards: it is what
// marks a dataset complete (shard_format.h), so it is written atomically and last, and not at all when
// a rank could not finish. Also removes shards the plan no longer has and logs the run's summary.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "preprocess/inputs.h"

namespace avf::pre {

struct ManifestOptions {
  std::string output;       // the dataset folder
  std::string params_json;  // the preprocessing parameters (Params::to_json)
  std::string timings;      // where to write per-rank stage timings; empty: not written
  bool allow_failures = false;
};

// results: every rank's {"shards", "failed", "frames", "seconds", "stages"[, "fatal"]}, in rank order;
// probe_failed: videos that failed before any rank started. Returns the process exit code.
int write_dataset_manifest(const std::vector<nlohmann::json>& results, const Dataset& ds, const ManifestOptions& o,
                           nlohmann::json probe_failed);

// sha256 per shard file in an earlier manifest.json of the output folder (empty when none).
std::map<std::string, std::string> previous_checksums(const std::string& output);

}  // namespace avf::pre
