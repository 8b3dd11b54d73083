// The trial wrapper: the one process per trial that knows the trial's fate. It is exec'd as the
// batch shell of an array task (so `--signal=B:...` and `scancel --batch` reach it) or started by
// the local backend, and is the only writer of the trial's status.json.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/base/exit_codes.h"
#include "core/base/log.h"
#include "jobs/process.h"
#include "jobs/runner.h"

namespace fs = std::filesystem;

namespace avf::jobs {
namespace {

// Starts the line the wrapper writes into train.log before each attempt.
const char* const kAttemptHeader = "== avf sweep trial ";

// A launch that never reached the trainer is tried again this many times, this long apart.
constexpr int kLaunchRetries = 2;
constexpr int kRelaunchDelaySeconds = 3;

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_signal = 0;  // the last signal received

void forward(int sig) {
  g_signal = sig;
  if (g_child > 0) kill(pid_t(g_child), sig);
}

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The job id squeue reports for this attempt: "<array job>_<task>" for an array task.
std::string slurm_job_id() {
  if (!env("SLURM_ARRAY_JOB_ID").empty()) return env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
  return env("SLURM_JOB_ID");
}

// Lines the launcher writes (srun, slurmstepd, mpirun and Open MPI's banners), not the trainer.
bool from_launcher(const std::string& line) {
  for (const char* prefix : {"srun:", "slurmstepd:", "mpirun", "--------", "Primary job", "Child job", "["})
    if (line.rfind(prefix, 0) == 0) return true;
  return false;
}

// Calls `visit(line, launcher)` for every non-blank line of the log from offset `from`, skipping the
// wrapper's attempt headers.
template <typename Visit>
void scan_log(const std::string& log_path, std::streamoff from, Visit visit) {
  std::ifstream in(log_path);
  in.seekg(from);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line.rfind(kAttemptHeader, 0) == 0) continue;
    visit(line, from_launcher(line));
  }
}

// Why the trial failed, from this attempt's log: the trainer's last error line, else the launcher's
// ("srun: error: task 0 launch failed"), else the last line of either. The launcher's summary of a
// trainer error ("srun: error: task 0: Exited with exit code 1", Open MPI's banner) says less than
// the trainer's own message, hence the order.
std::string failure_reason(const std::string& log_path, std::streamoff from) {
  const auto is_error = [](std::string l) {
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    return l.find("error") != std::string::npos || l.find("what():") != std::string::npos;
  };
  std::string trainer_error, launcher_error, trainer_last, launcher_last;
  scan_log(log_path, from, [&](const std::string& line, bool launcher) {
    (launcher ? launcher_last : trainer_last) = line;
    if (is_error(line)) (launcher ? launcher_error : trainer_error) = line;
  });
  std::string reason = !trainer_error.empty()    ? trainer_error
                       : !launcher_error.empty() ? launcher_error
                       : !trainer_last.empty()   ? trainer_last
                                                 : launcher_last;
  if (reason.size() > 400) reason = reason.substr(0, 400) + "...";
  return reason;
}

// Whether any rank of the trainer wrote a line since `from`: if none did, the launch itself failed
// (e.g. srun's "task 0 launch failed" when a requeued job's first step finds the PMIx socket of
// its previous run still there) and launching again, as a new step, can succeed.
bool trainer_spoke(const std::string& log_path, std::streamoff from) {
  bool spoke = false;
  scan_log(log_path, from, [&](const std::string&, bool launcher) { spoke = spoke || !launcher; });
  return spoke;
}

}  // namespace

int run_trial(const std::string& sweep_dir, const std::string& id, const std::vector<std::string>& launcher,
              bool slurm) {
  const SweepPlan plan = load_plan(sweep_dir);
  const auto me = std::find_if(plan.trials.begin(), plan.trials.end(), [&](const Trial& t) { return t.id == id; });
  if (me == plan.trials.end()) throw std::runtime_error(fmt::format("{}: no trial '{}' in the plan", sweep_dir, id));
  const std::string dir = trial_dir(plan.dir, id);
  TrialStatus status = read_status(dir);
  if (status.state == TrialState::done || status.state == TrialState::stopped) {
    log::info("trial {} is already {}; not running it again", id, to_string(status.state));
    return exit_code::ok;
  }

  std::vector<std::string> argv = launcher;
  argv.insert(argv.end(), {self_executable(), "train", "--config", dir + "/config.ini", "--train.out", dir,
                           "--checkpoint.resume", "auto"});

  char host[256] = {};
  gethostname(host, sizeof host - 1);
  status = TrialStatus{};
  status.state = TrialState::running;
  status.start = now();
  status.host = host;
  status.pid = int(getpid());
  if (slurm) status.job_id = slurm_job_id();
  status.restarts = env("SLURM_RESTART_COUNT").empty() ? 0 : std::atoi(env("SLURM_RESTART_COUNT").c_str());
  write_status(dir, status);

  const std::string log_path = dir + "/train.log";
  const int preempt_signal = signal_number(plan.resources.signal);
  for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) std::signal(sig, forward);
  // Early stopping reads every trial's metrics, so only when this trial has a new validation.
  size_t seen = read_validations(dir).size();
  std::string stop_reason;
  // Under SLURM the job's time limit ends the trial. Locally the wrapper does what SLURM would: the
  // preemption signal signal-lead seconds before the limit (the trainer checkpoints, `resume`
  // continues), SIGKILL at it; so no local trial runs unbounded either.
  const double limit = slurm ? 0 : time_limit_seconds(plan.resources.time);
  bool at_time_limit = false;
  std::streamoff log_start = 0;
  int rc = -1;
  for (int launch = 1;; ++launch) {
    log_start = fs::exists(log_path) ? std::streamoff(fs::file_size(log_path)) : 0;
    std::ofstream(log_path, std::ios::app) << fmt::format("{}{} (attempt {}, {}): {}\n", kAttemptHeader, id,
                                                          status.restarts + 1, host, join_command(argv));
    const pid_t child = spawn_process(argv, log_path);
    g_child = child;
    if (g_signal) kill(child, g_signal);  // arrived while the trainer was being started
    log::info("trial {}: started {} (pid {})", id, join_command(argv), child);

    double stop_sent = 0;
    const double kill_after = 300;  // seconds a signalled trainer gets to checkpoint before SIGKILL
    while ((rc = poll_process(child)) < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const double elapsed = now() - status.start;
      if (limit > 0 && !at_time_limit && elapsed >= limit - plan.resources.signal_lead) {
        log::warn("trial {}: {:.0f} s of its time limit {} left; asking it to checkpoint", id, limit - elapsed,
                  plan.resources.time);
        at_time_limit = true;
        g_signal = preempt_signal;
        kill(child, preempt_signal);
      }
      if (limit > 0 && elapsed >= limit) kill(child, SIGKILL);
      if (stop_reason.empty() && plan.early_stopping.rule != "none") {
        const auto own = read_validations(dir);
        for (; seen < own.size() && stop_reason.empty(); ++seen) {
          std::vector<std::vector<Validation>> others;
          for (const auto& t : plan.trials)
            if (t.id != id) others.push_back(read_validations(trial_dir(plan.dir, t.id)));
          stop_reason = early_stop_reason(plan.early_stopping, plan.mode,
                                          std::vector<Validation>(own.begin(), own.begin() + long(seen) + 1), others);
        }
        if (!stop_reason.empty()) {
          log::info("trial {}: {}; stopping it", id, stop_reason);
          kill(child, preempt_signal);
          stop_sent = now();
        }
      }
      if (stop_sent > 0 && now() - stop_sent > kill_after) {
        log::warn("trial {}: trainer did not stop {:.0f} s after the signal; killing it", id, kill_after);
        kill(child, SIGKILL);
        stop_sent = 0;
      }
    }
    g_child = 0;
    const bool launch_failed = (rc != exit_code::ok || !trainer_finished(dir)) && !trainer_spoke(log_path, log_start);
    if (!launch_failed || g_signal || !stop_reason.empty() || launch > kLaunchRetries) break;
    log::warn("trial {}: the launcher exited with {} before the trainer started ({}); launching again in {} s", id, rc,
              failure_reason(log_path, log_start), kRelaunchDelaySeconds);
    std::this_thread::sleep_for(std::chrono::seconds(kRelaunchDelaySeconds));
  }

  status.end = now();
  status.exit_code = rc;
  int result = exit_code::ok;
  if (!stop_reason.empty() && (rc == exit_code::ok || rc == exit_code::preempted)) {
    status.state = TrialState::stopped;
    status.reason = stop_reason;
  } else if (rc == exit_code::ok && !trainer_finished(dir)) {
    // srun can exit 0 when it failed to launch the tasks; a finished trainer always ends its
    // metrics with a "done" record (`last` alone may be from an earlier attempt).
    status.state = TrialState::failed;
    status.reason = "the launcher exited 0 but the trainer did not finish: " + failure_reason(log_path, log_start);
    result = exit_code::failure;
  } else if (rc == exit_code::ok) {
    status.state = TrialState::done;
  } else if (rc == exit_code::preempted) {
    status.state = TrialState::preempted;
    status.reason =
        fmt::format("stopped by SIG{}{}: checkpointed last", sigabbrev_np(g_signal ? g_signal : preempt_signal),
                    at_time_limit ? " before the time limit" : "");
    result = exit_code::preempted;
  } else {
    status.state = TrialState::failed;
    status.reason = rc == 127  ? failure_reason(log_path, log_start)
                    : rc > 128 ? fmt::format("trainer killed by SIG{}{}", sigabbrev_np(rc - 128),
                                             at_time_limit ? " at the time limit" : "")
                               : fmt::format("exit code {}: {}", rc, failure_reason(log_path, log_start));
    result = exit_code::failure;
  }
  // Under SLURM the preemption signal means "time is up or the node is wanted": put the job back in
  // the queue so it resumes from `last`. SIGTERM is what scancel and SLURM's own requeue send: no
  // requeue here (a cancelled job must stay cancelled; `sweep resume` picks it up).
  const bool requeue = slurm && status.state == TrialState::preempted && g_signal == preempt_signal;
  const std::string reason = status.reason;
  // Written before the requeue, which ends this job: the status must not be lost with it.
  if (requeue) status.reason += "; requeued";
  write_status(dir, status);
  log::info("trial {}: {}{}", id, to_string(status.state), status.reason.empty() ? "" : " (" + status.reason + ")");
  if (requeue) {
    const auto r = run_process({"scontrol", "requeue", env("SLURM_JOB_ID")}, 60);
    if (r.exit_code != 0) {
      status.reason = fmt::format("{}; scontrol requeue failed: {}", reason, r.output);
      write_status(dir, status);
      log::error("trial {}: scontrol requeue {} failed: {}", id, env("SLURM_JOB_ID"), r.output);
    }
  }
  return result;
}

}  // namespace avf::jobs
