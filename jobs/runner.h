// Running trials: the trial wrapper (one trial, on whatever node it lands), the local backend (N
// wrappers at a time on this machine) and the SLURM backend (job arrays from slurm/ templates).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "jobs/spec.h"
#include "jobs/trials.h"

namespace avf::jobs {

// `avf sweep trial <sweep_dir> <id> [-- launcher...]`: runs the trainer for one trial as
//   launcher... avf train --config <dir>/config.ini --train.out <dir> --checkpoint.resume auto
// (launcher: `srun --mpi=pmix ...` in the sbatch script, `mpirun -np N` locally, nothing for one local
// rank), records status.json, forwards the preemption signal and SIGTERM/SIGINT to the trainer, applies
// the sweep's early-stopping rule after each validation, and after a preemption under SLURM requeues
// its own job (see `slurm` below). Returns the exit code (0 done or stopped, 3 preempted, 1 failed). A trial that is
// done or stopped is not run again. With `slurm` (the array script passes --slurm) it records the SLURM job id and
// requeues after a preemption.
int run_trial(const std::string& sweep_dir, const std::string& id, const std::vector<std::string>& launcher,
              bool slurm);

// Trials that a run or resume (re)starts: failed, cancelled, preempted and never started ones; not
// done or stopped ones, nor those whose SLURM job is still queued (`queued`: job ids from squeue,
// `have_queue`: whether squeue was asked) or whose wrapper still runs on this machine.
std::vector<Trial> trials_to_run(const SweepPlan& plan, const std::set<std::string>& queued, bool have_queue);

// Local backend: `throttle` wrappers at a time, each an MPI job of `ranks` ranks; returns when all
// ended. SIGINT/SIGTERM make every running trial checkpoint (preempted) and start no new one.
// Returns 0 when every trial is done or stopped, 3 when interrupted, 1 when any failed.
int run_local(const SweepPlan& plan, const std::vector<Trial>& trials);

// SLURM backend.
struct SlurmSubmission {
  std::string job_id;
  std::string script;
  std::vector<std::string> trial_ids;  // array index i runs trial_ids[i]
};
// MaxArraySize from `scontrol show config` (indices must be below it).
int max_array_size();
// The sbatch script of one array (template: slurm/sweep-array.sbatch.in unless `template_path`).
std::string render_array_script(const SweepPlan& plan, const std::vector<std::string>& trial_ids,
                                const std::string& avf_path, const std::string& template_path = "");
// Splits the trials into arrays of at most `max_array` tasks, each held until the statuses are
// written, then released; a later array depends on the previous one (afterany), so that the
// throttle holds across them. Records them in <sweep>/submissions.json. Throws naming the command
// and its output when sbatch fails.
std::vector<SlurmSubmission> submit_slurm(const SweepPlan& plan, const std::vector<Trial>& trials, int max_array,
                                          const std::string& template_path = "");
// Job ids ("123_4" for array tasks) of this user's queued or running jobs: one squeue call.
std::set<std::string> queued_jobs();

// What a trial's status says, corrected by the queue: a pending or running SLURM trial whose job is
// no longer queued is cancelled (its job ended without the wrapper recording a result).
TrialStatus effective_status(const std::string& dir, const std::set<std::string>& queued, bool have_queue);

// Follows a SLURM sweep: trial status files every `interval_s`, at most one squeue call per interval,
// until no trial is pending, running or requeued, or `timeout_s` passes (then returns false).
bool wait_slurm(const SweepPlan& plan, const std::vector<Trial>& trials, double interval_s, double timeout_s);

// `avf sweep status`: one line per trial (state, best metric so far, epochs, elapsed, reason).
std::string status_table(const SweepPlan& plan, const std::set<std::string>& queued, bool have_queue);

}  // namespace avf::jobs
