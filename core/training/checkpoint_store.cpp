#include "core/training/checkpoint_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <limits>
#include <regex>
#include <set>

#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/training/checkpoint_format.h"
#include "core/training/early_stopping.h"

namespace avf {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace checkpoint_format;

namespace {

// A subdirectory of the store as its metadata describes it; checksums are not verified here.
struct Entry {
  std::string name;
  std::string path;
  int64_t step = -1;
  double score = kNaN;  // by the store's current metric; NaN when not validated or unreadable
  std::string error;    // why the metadata is unusable; empty when it is fine
  bool temp() const { return is_temp_name(name); }
  // Strictly the store's own top-k names, so retention never removes anything else.
  bool top_k() const {
    static const std::regex pattern("epoch-[0-9]{4,}-step-[0-9]{7,}");
    return std::regex_match(name, pattern);
  }
};

// The name a temp entry stands for: ".best.tmp-12-3" -> "best".
std::string name_behind_temp(const std::string& temp_name) { return temp_name.substr(1, temp_name.find(".tmp-") - 1); }

std::string top_k_name(const CheckpointPayload& p) { return fmt::format("epoch-{:04d}-step-{:07d}", p.epoch, p.step); }

std::vector<Entry> scan(const std::string& dir, const std::string& metric) {
  std::vector<Entry> entries;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(dir, ec)) {
    if (!d.is_directory(ec)) continue;
    Entry e;
    e.name = d.path().filename().string();
    e.path = d.path().string();
    json meta;
    try {
      meta = read_metadata(e.path);
    } catch (const CheckpointError& ex) {
      e.error = ex.what();
      entries.push_back(e);
      continue;
    }
    e.step = meta["step"].get<int64_t>();
    // Ranked by the metric configured now, so changing checkpoint.metric between runs stays consistent;
    // one saved without validation, or without this metric's target, is not ranked.
    try {
      if (meta.contains("metrics") && meta["metrics"].is_object())
        e.score = metric_value(metrics_from_json(meta["metrics"]), metric);
    } catch (const ConfigError&) {
    } catch (const json::exception&) {
    }
    entries.push_back(e);
  }
  return entries;
}

// Best first; equal scores keep the older checkpoint first, so a tie never displaces one.
bool ranks_before(const Entry& a, const Entry& b) {
  if (improves(a.score, b.score)) return true;
  if (improves(b.score, a.score)) return false;
  return a.step < b.step;
}

}  // namespace

double metric_value(const Metrics& metrics, const std::string& metric) {
  if (metrics.ccc.empty()) throw ConfigError("checkpoint.metric: the validation produced no CCC to rank by");
  if (metric == "mean") {
    double sum = 0;
    for (const auto& [target, ccc] : metrics.ccc) sum += ccc;
    return sum / static_cast<double>(metrics.ccc.size());
  }
  if (auto it = metrics.ccc.find(metric); it != metrics.ccc.end()) return it->second;
  std::string targets;
  for (const auto& [target, ccc] : metrics.ccc) targets += (targets.empty() ? "" : ", ") + target;
  throw ConfigError(fmt::format("checkpoint.metric '{}': expected 'mean' or a target ({})", metric, targets));
}

std::string checkpoint_dir(const Config& config) {
  return config.checkpoint.dir.empty() ? (fs::path(config.train.out) / "checkpoints").string() : config.checkpoint.dir;
}

CheckpointStore::CheckpointStore(std::string dir, std::string metric, int keep, RunInfo run)
    : dir_(std::move(dir)), metric_(std::move(metric)), keep_(std::max(keep, 0)), run_(std::move(run)) {}

void CheckpointStore::write(const std::string& name, const CheckpointPayload& payload, const json& metrics,
                            double score) const {
  const std::string final_path = dir_ + "/" + name;
  const std::string tmp = temp_path_for(final_path);
  try {
    fs::create_directories(dir_);
    fs::create_directory(tmp);
    json files = json::object();
    const auto put = [&](const char* file, std::string_view bytes) {
      write_file_atomic(tmp + "/" + file, bytes);
      files[file] = {{"bytes", bytes.size()}, {"sha256", sha256_hex(bytes)}};
    };
    put(kModel, payload.model);
    put(kOptimizer, payload.optimizer);
    const std::vector<uint8_t> state = json::to_cbor(payload.state);
    put(kState, {reinterpret_cast<const char*>(state.data()), state.size()});
    json state_keys = json::array();
    for (const auto& [key, value] : payload.state.items()) state_keys.push_back(key);
    const json meta = {{"format", kFormat},
                       {"format_version", kFormatVersion},
                       {"name", name},
                       {"epoch", payload.epoch},
                       {"step", payload.step},
                       {"metric", metric_},
                       {"score", number_or_null(score)},
                       {"metrics", metrics},
                       {"world_size", run_.world_size},
                       {"code", {{"version", run_.code_version}, {"commit", run_.code_commit}}},
                       {"created", utc_now()},
                       {"files", files},
                       {"state_keys", state_keys},
                       {"config", run_.config_ini}};
    // Last: only now does the directory count as a checkpoint.
    write_file_atomic(tmp + "/" + kMetadata, meta.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    replace_directory(tmp, final_path);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw CheckpointError(
        fmt::format("checkpoint {} not written (what was there is intact): {}", final_path, e.what()));
  }
}

void CheckpointStore::save_last(const CheckpointPayload& payload) {
  recover();
  write("last", payload, nullptr, kNaN);
}

std::vector<std::string> CheckpointStore::recover() const {
  std::vector<std::string> restored;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return restored;
  const std::vector<Entry> entries = scan(dir_, metric_);
  std::map<std::string, const Entry*> finals, newest_temp;
  for (const auto& e : entries) {
    if (!e.temp()) {
      if (e.error.empty()) finals[e.name] = &e;
      continue;
    }
    if (!e.error.empty()) continue;  // metadata.json is written last: without it, an unfinished write
    const std::string name = name_behind_temp(e.name);
    auto& best = newest_temp[name];
    if (best == nullptr || e.step > best->step) best = &e;
  }
  for (const auto& [name, temp] : newest_temp) {
    const auto final_entry = finals.find(name);
    if (final_entry != finals.end() && final_entry->second->step >= temp->step) continue;
    try {
      load_checkpoint(temp->path);  // every checksum, before it takes the name
    } catch (const CheckpointError& e) {
      log::warn("checkpoint recovery: not restoring {}: {}", temp->path, e.what());
      continue;
    }
    replace_directory(temp->path, dir_ + "/" + name);
    log::warn("checkpoint recovery: restored {}/{} (step {}) from {}, left by an interrupted save", dir_, name,
              temp->step, temp->name);
    restored.push_back(name);
  }
  for (const auto& e : entries)
    if (e.temp()) fs::remove_all(e.path, ec);
  return restored;
}

std::vector<std::string> CheckpointStore::save(const CheckpointPayload& payload, const Metrics& metrics) {
  const double score = metric_value(metrics, metric_);
  recover();
  const json metrics_json = to_json(metrics);
  const std::vector<Entry> entries = scan(dir_, metric_);
  std::vector<std::string> written{"last"};
  write("last", payload, metrics_json, score);

  // Compared with every checkpoint present, not only `best`: a crash that left `best` under a temp
  // name must not let a worse checkpoint take its place.
  double best_so_far = kNaN;
  for (const auto& e : entries)
    if (improves(e.score, best_so_far)) best_so_far = e.score;
  if (improves(score, best_so_far)) {
    write("best", payload, metrics_json, score);
    written.push_back("best");
  }

  const std::string name = top_k_name(payload);
  Entry candidate;
  candidate.name = name;
  candidate.step = payload.step;
  candidate.score = score;
  std::vector<Entry> ranked{candidate};
  for (const auto& e : entries)
    if (e.top_k() && e.name != name) ranked.push_back(e);  // a same-named one is superseded
  std::stable_sort(ranked.begin(), ranked.end(), ranks_before);
  std::set<std::string> kept;
  for (const auto& e : ranked)
    if (static_cast<int>(kept.size()) < keep_ && !std::isnan(e.score)) kept.insert(e.name);
  if (kept.count(name)) {
    write(name, payload, metrics_json, score);
    written.push_back(name);
  }
  // Removed only after the new ones are in place, so a failure never leaves fewer than before.
  std::error_code ec;
  for (const auto& e : entries)
    if ((e.top_k() && !kept.count(e.name)) || e.temp()) fs::remove_all(e.path, ec);
  return written;
}

std::optional<Checkpoint> CheckpointStore::resume(const std::string& mode) const {
  if (mode.empty()) return std::nullopt;
  std::optional<Checkpoint> found;
  if (mode != "auto") {
    std::error_code ec;
    const std::string path = fs::exists(mode, ec) ? mode : dir_ + "/" + mode;
    if (!fs::exists(path, ec))
      throw CheckpointError(fmt::format("checkpoint.resume: no checkpoint '{}' (nor {})", mode, path));
    found = load_checkpoint(path);
  } else {
    std::vector<Entry> entries = scan(dir_, metric_);
    // Newest first, `last` first among equals (the same state under several names); a complete
    // checkpoint left under a temp name by a crash counts too.
    const auto order = [](const Entry& e) { return std::make_tuple(-e.step, e.temp(), e.name != "last", e.name); };
    std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) { return order(a) < order(b); });
    int corrupt = 0;
    for (const auto& e : entries) {
      if (!e.error.empty()) {
        if (e.temp()) continue;  // an interrupted write, not a checkpoint
        log::warn("resume: skipping {}", e.error);
        ++corrupt;
        continue;
      }
      try {
        found = load_checkpoint(e.path);
        break;
      } catch (const CheckpointError& ex) {
        log::warn("resume: skipping corrupt checkpoint: {}", ex.what());
        ++corrupt;
      }
    }
    if (!found && corrupt > 0)
      throw CheckpointError(
          fmt::format("checkpoint.resume auto: none of the {} checkpoints in {} is valid (see the warnings above); "
                      "remove them to start afresh or resume from a path",
                      corrupt, dir_));
    if (!found) {
      log::info("resume: no checkpoint in {}, starting from scratch", dir_);
      return std::nullopt;
    }
  }
  const int saved_world = found->metadata.value("world_size", 0);
  if (saved_world != run_.world_size)
    log::warn(
        "resuming {} written by {} ranks with {}: the sampler is re-sharded, so the run will not be "
        "bit-identical to an uninterrupted one",
        found->path, saved_world, run_.world_size);
  log::info("resuming from {} (epoch {}, step {})", found->path, found->payload.epoch, found->payload.step);
  return found;
}

}  // namespace avf
