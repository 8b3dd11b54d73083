// Checkpoints of a training run: `last`, `best` (by validation CCC) and the top-k, each a directory
//   model.pt  optimizer.pt  state.cbor  metadata.json
// under the store's directory. metadata.json is written last and holds the sha256 of every other
// file, so a directory without valid metadata, or whose files do not match it, is never loaded.
// Torch-free: payloads are bytes (see checkpoint_torch.h for modules, optimizers and RNG states).
// Only rank 0 saves; every rank may load.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/config.h"

namespace avf {

// A checkpoint that cannot be written or is missing, truncated or corrupt; what() names the file and
// what was expected.
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the trainer hands over and gets back on resume.
struct CheckpointPayload {
  int64_t epoch = 0;      // the trainer's epoch counter at the time of saving
  int64_t step = 0;       // optimizer steps done
  std::string model;      // serialized model state
  std::string optimizer;  // serialized optimizer state (includes learning rates)
  // Everything else the trainer needs to continue bit for bit: position in the epoch, LR schedule,
  // early stopping, RNG states per rank (as nlohmann::json::binary), ... Stored as CBOR, so binary
  // values and NaN survive.
  nlohmann::json state = nlohmann::json::object();
};

// Validation results of one evaluation.
struct Metrics {
  std::map<std::string, double> ccc;    // per target, e.g. {"arousal": 0.55, "valence": 0.41}
  std::map<std::string, double> other;  // recorded in the metadata, not ranked, e.g. {"loss": 0.7}
};

// The value checkpoints are ranked by: "mean" = mean CCC over targets, else that target's CCC.
// Throws ConfigError naming checkpoint.metric and the known targets for an unknown one.
double metric_value(const Metrics& metrics, const std::string& metric);

// Facts about the run that every checkpoint records.
struct RunInfo {
  std::string config_ini;  // config_to_ini() of the effective configuration
  int world_size = 1;
  std::string code_version;  // avf::version()
  std::string code_commit;   // avf::git_commit()
};

struct Checkpoint {
  std::string path;
  nlohmann::json metadata;
  CheckpointPayload payload;
};

// checkpoint.dir, or <train.out>/checkpoints when it is empty.
std::string checkpoint_dir(const Config& config);

class CheckpointStore {
 public:
  // keep: how many `epoch-XXXX-step-XXXXXXX` checkpoints (the best by metric) to keep besides `last`
  // and `best`. Nothing is created until the first save.
  CheckpointStore(std::string dir, std::string metric, int keep, RunInfo run);

  // After a validation: writes `last`; `best` when the metric improves on every checkpoint in the
  // directory; `epoch-XXXX-step-XXXXXXX` when it ranks among the top `keep`, removing the ones it
  // displaces. Returns the names written, in that order. Throws CheckpointError (or ConfigError for
  // an unknown metric); whatever was there before stays loadable.
  std::vector<std::string> save(const CheckpointPayload& payload, const Metrics& metrics);
  // Without a fresh validation (preemption, a mid-epoch stop): writes only `last`.
  void save_last(const CheckpointPayload& payload);

  // Undoes what a crash in the middle of a save left: each name (`best`, `last`, a top-k) whose
  // newest complete copy sits under a temp name (".best.tmp-<pid>-<n>": a directory being written,
  // or the previous one moved aside by replace_directory's first rename) gets that copy back under
  // its name when the name is missing or holds an older step; every other temp entry is removed.
  // Hence after a crash at any point of a save, `best` is the previous or the new best, never
  // missing. Only the one process that saves may call it (rank 0), before it resumes or saves;
  // save() calls it first. Returns the names restored.
  std::vector<std::string> recover() const;

  // mode "": nothing. "auto": the newest (by step) checkpoint in the directory that verifies,
  // warning about each corrupt one skipped; nothing when the directory has no checkpoint at all;
  // CheckpointError when it has some but none verifies. Anything else is a checkpoint path, or a
  // name inside the directory ("best", "last"), which must verify. Warns when the checkpoint was
  // written with another world size.
  std::optional<Checkpoint> resume(const std::string& mode) const;

 private:
  void write(const std::string& name, const CheckpointPayload& payload, const nlohmann::json& metrics,
             double score) const;

  std::string dir_;
  std::string metric_;
  int keep_;
  RunInfo run_;
};

// What a load reads: everything, to resume training; or the model's weights alone, for extract,
// evaluate, predict and export, which then accept a checkpoint without optimizer.pt and state.cbor
// (e.g. one stripped for distribution). The payload's optimizer and state stay empty then.
enum class CheckpointParts { all, weights };
// Reads a checkpoint directory and verifies the files it reads against the checksums in its metadata.
Checkpoint load_checkpoint(const std::string& path, CheckpointParts parts = CheckpointParts::all);
// True when `path` is a directory with an avf checkpoint's metadata.json (for `avf inspect` to tell a
// checkpoint from a shard); does not verify checksums.
bool is_checkpoint(const std::string& path);
// The metadata as readable text: epoch, step, metrics, world size, code, files, state keys, config.
// Throws CheckpointError when the metadata is missing or invalid.
std::string describe_checkpoint(const std::string& path);
// `avf inspect <checkpoint>`: prints describe_checkpoint() and the result of verifying every checksum
// to stdout; errors to stderr. Returns the exit code (0 valid, 1 missing or corrupt).
int inspect_checkpoint(const std::string& path);

}  // namespace avf
