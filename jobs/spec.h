// Sweep specs and the trial planner. A spec is an INI file (Boost.Program_options syntax):
//
//   [sweep]     name, base (config file), out (sweep directory), metric (mean | <target>),
//               mode (max | min), trials (random budget per grid point), seed
//   [fixed]     section.key = value            overrides applied to every trial
//   [grid]      section.key = v1, v2, ...      every combination
//   [random]    section.key = uniform(a, b) | loguniform(a, b) | randint(a, b) | choice(v1, v2, ...)
//   [resources] ranks, cpus-per-rank, gpus-per-rank, time, throttle, signal, signal-lead,
//               partition, account
//   [early-stopping] rule (none | median | asha), grace, min-trials, eta
//
// The plan is the grid's product, each point combined with `trials` random draws (one draw when
// there is no [random] section). A trial's id is the first 12 hex digits of the SHA-256 of its
// sorted "key=value" lines, values in the canonical form the config schema prints, so the same
// parameters always give the same id and duplicates collapse into one trial.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/base/config.h"

namespace avf::jobs {

struct RandomParam {
  std::string kind;                 // uniform | loguniform | randint | choice
  double low = 0, high = 0;         // uniform, loguniform, randint
  std::vector<std::string> values;  // choice
};

struct Resources {
  int ranks = 1;          // MPI ranks per trial
  int cpus_per_rank = 1;  // also the trainer's intra-op threads
  int gpus_per_rank = 0;
  std::string time = "01:00:00";  // SLURM time limit per trial
  int throttle = 2;               // trials running at once (array %M; local: processes at once)
  std::string signal = "USR2";    // preemption signal the trainer traps
  int signal_lead = 120;          // seconds before the time limit at which SLURM sends it
  std::string partition, account;
};

struct EarlyStopRule {
  std::string rule = "none";  // none | median | asha
  int grace = 1;              // epochs every trial runs before any rule applies
  int min_trials = 3;         // median: other trials that must have reached the epoch
  int eta = 3;                // asha: keep the top 1/eta at each rung (rungs at grace * eta^k)
};

struct SweepSpec {
  std::string path;  // the spec file
  std::string name;
  std::string base;  // base config file (absolute), "" for the built-in defaults
  std::string out;   // sweep directory (absolute)
  std::string metric = "mean";
  std::string mode = "max";
  int trials = 1;
  uint64_t seed = 1;
  std::map<std::string, std::string> fixed;
  std::map<std::string, std::vector<std::string>> grid;
  std::map<std::string, RandomParam> random;
  Resources resources;
  EarlyStopRule early_stopping;
};

// Reads and checks a spec; relative paths are taken relative to the spec's directory. Throws
// ConfigError naming the file, line, key and what was expected.
SweepSpec load_sweep_spec(const std::string& path);

struct Trial {
  std::string id;
  std::map<std::string, std::string> params;  // swept keys only, canonical values
};

// The trials of a spec, in plan order, duplicates removed. Values are checked against the config
// schema (unknown key, wrong type, not a choice: ConfigError).
std::vector<Trial> plan_trials(const SweepSpec& spec);
std::string trial_id(const std::map<std::string, std::string>& params);

// The effective configuration of one trial: defaults, base config, [fixed], the trial's parameters,
// then what the sweep itself decides (run directory, checkpoint metric, threads, signal).
Config trial_config(const SweepSpec& spec, const Trial& trial, const std::string& trial_dir);

// Seconds of a SLURM time limit ("minutes", "minutes:seconds", "hours:minutes:seconds",
// "days-hours", "days-hours:minutes", "days-hours:minutes:seconds"), as [resources] time accepts it.
double time_limit_seconds(const std::string& slurm_time);

// `text` with every character outside [A-Za-z0-9._-] replaced by '_': a name that may go into an
// #SBATCH line (sbatch splits those on blanks and quotes).
std::string plain_name(std::string text);

// Single-quotes `text` for a POSIX shell; anything inside survives literally.
std::string shell_quote(const std::string& text);
// Throws ConfigError (naming `where` and `key`) for a value that cannot travel through an INI file
// unchanged: control characters, newlines, '#' (Boost starts a comment there), leading/trailing space.
void check_ini_value(const std::string& value, const std::string& key, const std::string& where);

}  // namespace avf::jobs
