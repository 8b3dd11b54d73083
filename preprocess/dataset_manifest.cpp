#include "preprocess/dataset_manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/data/shard_format.h"

namespace avf::pre {
namespace fs = std::filesystem;
using nlohmann::json;

int write_dataset_manifest(const std::vector<json>& results, const Dataset& ds, const ManifestOptions& o,
                           json probe_failed) {
  json shards = json::array(), videos = json::array(), failed = std::move(probe_failed);
  std::vector<std::string> fatal;
  int64_t frames = 0, face_frames = 0, skipped = 0;
  double rate_sum = 0;
  int working_ranks = 0;
  for (size_t rank = 0; rank < results.size(); ++rank) {
    const json& r = results[rank];
    if (r.contains("fatal")) fatal.push_back(r["fatal"]);
    log::info("rank {}: {} shards written or kept, {} frames decoded", rank, r["shards"].size(),
              r["frames"].get<int64_t>());
    if (r.contains("stages") && r["frames"].get<int64_t>() > 0) {
      std::string line;
      for (const auto& [stage, t] : r["stages"].items())
        line += fmt::format("{}{} {:.0f}", line.empty() ? "" : ", ", stage, t["frames_per_s"].get<double>());
      log::info("rank {}: frames/s by stage: {}", rank, line);
    }
    for (const auto& f : r["failed"]) failed.push_back(f);
    if (r["seconds"].get<double>() > 0)
      rate_sum += r["frames"].get<double>() / r["seconds"].get<double>(), ++working_ranks;
    for (const auto& s : r["shards"]) {
      json ids = json::array();
      for (const auto& v : s["videos"]) {
        ids.push_back(v["id"]);
        json row = v;
        row["shard"] = s["file"];
        videos.push_back(row);
        frames += v["n_frames"].get<int64_t>();
        face_frames += v["face_frames"].get<int64_t>();
        skipped += s["skipped"].get<bool>();
      }
      shards.push_back({{"file", s["file"]}, {"bytes", s["bytes"]}, {"sha256", s["sha256"]}, {"videos", ids}});
    }
  }
  auto by = [](const char* key) { return [key](const json& a, const json& b) { return a[key] < b[key]; }; };
  std::sort(shards.begin(), shards.end(), by("file"));
  std::sort(videos.begin(), videos.end(), by("id"));
  std::sort(failed.begin(), failed.end(), by("id"));
  const auto summary = [&] {
    log::info("summary: {} videos ok ({} unchanged and skipped), {} failed; {} frames, face found in {:.1f}%{}",
              videos.size(), skipped, failed.size(), frames, frames ? 100.0 * face_frames / frames : 0.0,
              working_ranks ? fmt::format("; {:.1f} frames/s per rank", rate_sum / working_ranks) : "");
    for (const auto& f : failed) log::warn("failed {}: {}", f["id"].get<std::string>(), f["reason"].get<std::string>());
  };

  // A rank that could not finish (e.g. a shard it could not write) leaves the dataset incomplete:
  // no manifest, which is what marks a finished dataset, and nothing removed. A re-run redoes
  // only what is missing.
  if (!fatal.empty()) {
    summary();
    for (const auto& f : fatal) log::error("{}", f);
    log::error("no {} written: the dataset in {} is incomplete", shard::kManifestFile, o.output);
    return exit_code::failure;
  }

  std::set<std::string> keep;
  for (const auto& s : shards) keep.insert(s["file"]);
  for (const auto& e : fs::directory_iterator(o.output)) {
    const std::string f = e.path().filename().string();
    const bool ours = f.rfind("shard-", 0) == 0 && f.find(".h5") != std::string::npos;  // .h5 or .h5.partial
    if (ours && !keep.count(f)) {
      log::info("removing {} (not part of this dataset any more)", f);
      fs::remove(e.path());
    }
  }

  const json manifest = {
      {"format", shard::kFormat}, {"version", shard::kVersion}, {"params", json::parse(o.params_json)},
      {"targets", ds.targets},    {"shards", shards},           {"videos", videos},
      {"failed", failed}};
  write_file_atomic((fs::path(o.output) / shard::kManifestFile).string(), manifest.dump(2) + "\n");

  summary();
  log::info("manifest: {}", (fs::path(o.output) / shard::kManifestFile).string());
  if (!o.timings.empty()) {
    json ranks = json::array();
    for (size_t rank = 0; rank < results.size(); ++rank)
      ranks.push_back({{"rank", rank},
                       {"frames", results[rank]["frames"]},
                       {"seconds", results[rank]["seconds"]},
                       {"stages", results[rank].value("stages", json::object())}});
    write_file_atomic(o.timings, json{{"ranks", ranks}}.dump(2) + "\n");
    log::info("stage timings: {}", o.timings);
  }
  return failed.empty() || o.allow_failures ? exit_code::ok : exit_code::failure;
}

// sha256 per shard file in an earlier manifest.json of the output folder (empty when none).
std::map<std::string, std::string> previous_checksums(const std::string& output) {
  std::map<std::string, std::string> out;
  std::ifstream in(fs::path(output) / shard::kManifestFile);
  if (!in) return out;
  try {
    const json manifest = json::parse(in);
    for (const auto& s : manifest.at("shards")) out[s.at("file")] = s.at("sha256");
  } catch (const json::exception&) {  // unreadable: nothing to compare with, shards are checked by their attributes
  }
  return out;
}

}  // namespace avf::pre
