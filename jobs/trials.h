// A sweep on disk, with no database (SQLite on NFS is what breaks other tools): every trial owns a
// directory on the shared filesystem and is the only writer of its files.
//
//   <sweep>/sweep.json                 the plan: spec, metric, mode, rules, resources, trials (id, params)
//   <sweep>/spec.ini                   copy of the spec the plan came from
//   <sweep>/submissions.json           SLURM job ids of every array submitted (slurm backend)
//   <sweep>/trials/<id>/config.ini     effective configuration of the trial
//   <sweep>/trials/<id>/status.json    state, reason, start, end, exit code, job id (atomic writes)
//   <sweep>/trials/<id>/metrics.jsonl  the trainer's per-epoch records
//   <sweep>/trials/<id>/checkpoints/   last, best, ...
//   <sweep>/trials/<id>/train.log      the trainer's output
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "jobs/spec.h"

namespace avf::jobs {

// pending: planned, not started. running. done: finished (also after the trainer's own early
// stopping). failed: non-zero exit, with the reason. stopped: ended by the sweep's early-stopping
// rule. preempted: checkpointed `last` on a signal; requeued or waiting for `sweep resume`.
// cancelled: never set by a trial itself; `status` reports a running trial whose SLURM job is gone.
enum class TrialState { pending, running, done, failed, stopped, preempted, cancelled };
std::string to_string(TrialState s);
TrialState trial_state_from_string(const std::string& s);  // throws std::invalid_argument

struct TrialStatus {
  TrialState state = TrialState::pending;
  std::string reason;
  double start = 0, end = 0;  // Unix seconds; 0 = not yet
  int exit_code = -1;
  int restarts = 0;    // SLURM_RESTART_COUNT of the latest attempt
  std::string job_id;  // SLURM job id of the latest attempt ("" locally)
  std::string host;
  int pid = 0;

  nlohmann::json to_json() const;
  static TrialStatus from_json(const nlohmann::json& j);
};

std::string trial_dir(const std::string& sweep_dir, const std::string& id);
// A missing status file reads as pending; an unreadable one throws naming the file.
TrialStatus read_status(const std::string& dir);
void write_status(const std::string& dir, const TrialStatus& s);

// One validation of a trial: the per-epoch metric the sweep ranks and stops by.
struct Validation {
  int epoch = 0;
  double value = 0;
  nlohmann::json record;
};
// Validations from <dir>/metrics.jsonl; `metric` is read from the record's "metric" field (the
// trainer's checkpoint metric, which the sweep sets to its own).
std::vector<Validation> read_validations(const std::string& dir);

// Whether <dir>/metrics.jsonl ends with the trainer's "done" record: the run completed.
bool trainer_finished(const std::string& dir);
bool better(double a, double b, const std::string& mode);  // a strictly better than b; NaN never is
// Best validation by `mode`; nullopt when there is none.
std::optional<Validation> best_validation(const std::vector<Validation>& v, const std::string& mode);

// Writes sweep.json, spec.ini and every trial's directory with config.ini. `trials` is
// plan_trials(spec), or the seeds of `avf repro`. Throws ConfigError when a trial that is done,
// stopped, running or preempted has a config.ini other than the one the spec now gives it.
void prepare_sweep(const SweepSpec& spec, const std::vector<Trial>& trials);
struct SweepPlan {
  std::string dir, name, metric, mode, spec_path;
  Resources resources;
  EarlyStopRule early_stopping;
  std::vector<Trial> trials;
};
SweepPlan load_plan(const std::string& sweep_dir);  // throws naming sweep.json

// Early stopping across trials. `own` are this trial's validations up to now; `others` those of
// every other trial. Returns the reason to stop, or "" to go on. Pure, so the rules are unit-tested.
//  median: after `grace` epochs, stop when the best value so far is worse than the median of the
//          other trials' best values up to the same epoch (at least `min_trials` of them).
//  asha:   rungs at epochs grace * eta^k; a trial reaching a rung continues only when its best value
//          so far is in the top 1/eta of the values recorded at that rung by the trials before it.
std::string early_stop_reason(const EarlyStopRule& rule, const std::string& mode, const std::vector<Validation>& own,
                              const std::vector<std::vector<Validation>>& others);

}  // namespace avf::jobs
