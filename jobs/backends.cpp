// The local and SLURM backends, and what `status` and `--wait` see of a sweep.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/base/progress.h"
#include "jobs/process.h"
#include "jobs/runner.h"
#include "jobs/slurm_templates.h"

namespace fs = std::filesystem;

namespace avf::jobs {
namespace {

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string hostname() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

bool finished(TrialState s) { return s == TrialState::done || s == TrialState::stopped; }

volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

std::vector<Trial> trials_to_run(const SweepPlan& plan, const std::set<std::string>& queued, bool have_queue) {
  std::vector<Trial> out;
  for (const auto& t : plan.trials) {
    const TrialStatus s = effective_status(trial_dir(plan.dir, t.id), queued, have_queue);
    if (finished(s.state)) continue;
    if (!s.job_id.empty() && queued.count(s.job_id)) continue;  // in the queue: pending, running or requeued
    if (s.state == TrialState::running) continue;               // its wrapper is alive on this machine
    out.push_back(t);
  }
  return out;
}

// ---- local ----

int run_local(const SweepPlan& plan, const std::vector<Trial>& trials) {
  const std::string self = self_executable();
  std::vector<std::string> launcher;
  if (plan.resources.ranks > 1) {
    launcher = {"mpirun", "--oversubscribe", "--bind-to", "none", "-np", std::to_string(plan.resources.ranks)};
    if (geteuid() == 0) launcher.insert(launcher.begin() + 1, "--allow-run-as-root");
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const int preempt = signal_number(plan.resources.signal);
  std::map<pid_t, std::string> running;
  size_t next = 0;
  bool any_failed = false, signalled = false;
  Progress progress("sweep " + fs::path(plan.dir).filename().string(), int64_t(trials.size()), "trials");
  while (next < trials.size() || !running.empty()) {
    if (g_interrupted && !signalled) {
      log::warn("interrupted: asking {} running trial(s) to checkpoint; no new trial starts", running.size());
      for (const auto& [pid, id] : running) kill(pid, preempt);
      signalled = true;
    }
    while (!g_interrupted && next < trials.size() && int(running.size()) < plan.resources.throttle) {
      const std::string& id = trials[next++].id;
      std::vector<std::string> argv{self, "sweep", "trial", plan.dir, id};
      if (!launcher.empty()) argv.push_back("--"), argv.insert(argv.end(), launcher.begin(), launcher.end());
      running[spawn_process(argv, trial_dir(plan.dir, id) + "/trial.log", /*own_group=*/true)] = id;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (auto it = running.begin(); it != running.end();) {
      const int rc = poll_process(it->first);
      if (rc < 0) {
        ++it;
        continue;
      }
      const TrialStatus s = read_status(trial_dir(plan.dir, it->second));
      if (rc != exit_code::ok && rc != exit_code::preempted) any_failed = true;
      progress.advance(1, it->second + " " + to_string(s.state));
      if (s.state == TrialState::failed) log::warn("trial {} failed: {}", it->second, s.reason);
      it = running.erase(it);
    }
  }
  progress.finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return g_interrupted ? exit_code::preempted : any_failed ? exit_code::failure : exit_code::ok;
}

// ---- SLURM ----

int max_array_size() {
  const auto r = run_process({"scontrol", "show", "config"}, 60);
  std::smatch m;
  if (r.exit_code != 0 || !std::regex_search(r.output, m, std::regex(R"(MaxArraySize\s*=\s*(\d+))")))
    throw std::runtime_error(
        fmt::format("'scontrol show config' gave no MaxArraySize (exit {}): {}", r.exit_code, r.output));
  return std::stoi(m[1]);
}

std::string render_array_script(const SweepPlan& plan, const std::vector<std::string>& trial_ids,
                                const std::string& avf_path, const std::string& template_path) {
  std::string text = template_path.empty() ? std::string(kSweepArrayTemplate) : read_file(template_path);
  const auto& r = plan.resources;
  std::string ids, extra;
  for (const auto& id : trial_ids) {
    // Ids are hex digests; anything else would be a corrupt plan and must not reach the script.
    if (!std::regex_match(id, std::regex("[0-9a-f]{12}")))
      throw std::runtime_error("bad trial id '" + id + "' in the plan");
    ids += (ids.empty() ? "" : " ") + id;
  }
  if (r.gpus_per_rank > 0) extra += fmt::format("#SBATCH --gpus-per-task={}\n", r.gpus_per_rank);
  if (!r.partition.empty()) extra += "#SBATCH --partition=" + r.partition + "\n";
  if (!r.account.empty()) extra += "#SBATCH --account=" + r.account + "\n";
  // Names, partition and account were restricted to [A-Za-z0-9._-] and the time to digits and
  // separators when the spec was read; paths are single-quoted.
  const std::pair<const char*, std::string> values[] = {
      {"{{NAME}}", "avf-" + plan.name},
      {"{{LAST}}", std::to_string(trial_ids.size() - 1)},
      {"{{THROTTLE}}", std::to_string(r.throttle)},
      {"{{RANKS}}", std::to_string(r.ranks)},
      {"{{CPUS}}", std::to_string(r.cpus_per_rank)},
      {"{{TIME}}", r.time},
      {"{{SIGNAL}}", r.signal},
      {"{{SIGNAL_LEAD}}", std::to_string(r.signal_lead)},
      {"{{EXTRA_DIRECTIVES}}\n", extra},
      {"{{TRIAL_IDS}}", ids},
      {"{{AVF}}", shell_quote(avf_path)},
      {"{{SWEEP_DIR}}", shell_quote(plan.dir)},
  };
  for (const auto& [key, value] : values) text = replace_all(text, key, value);
  if (const auto left = text.find("{{"); left != std::string::npos)
    throw std::runtime_error(fmt::format("sweep array template: unknown placeholder '{}'",
                                         text.substr(left, text.find("}}", left) + 2 - left)));
  return text;
}

std::vector<SlurmSubmission> submit_slurm(const SweepPlan& plan, const std::vector<Trial>& trials, int max_array,
                                          const std::string& template_path) {
  const std::string slurm_dir = plan.dir + "/slurm";
  fs::create_directories(slurm_dir + "/logs");
  const std::string submissions_path = plan.dir + "/submissions.json";
  nlohmann::json record =
      fs::exists(submissions_path) ? nlohmann::json::parse(read_file(submissions_path)) : nlohmann::json::array();
  std::vector<SlurmSubmission> out;
  const std::string self = self_executable();
  const size_t submission = record.size();
  for (size_t first = 0; first < trials.size(); first += size_t(max_array)) {
    SlurmSubmission sub;
    for (size_t i = first; i < std::min(trials.size(), first + size_t(max_array)); ++i)
      sub.trial_ids.push_back(trials[i].id);
    sub.script = fmt::format("{}/array-{}-{}.sbatch", slurm_dir, submission, out.size());
    write_file_atomic(sub.script, render_array_script(plan, sub.trial_ids, self, template_path));
    std::vector<std::string> argv{"sbatch", "--parsable", "--hold", "--output=" + slurm_dir + "/logs/%A_%a.out"};
    if (!out.empty()) argv.push_back("--dependency=afterany:" + out.back().job_id);
    argv.push_back(sub.script);
    const auto r = run_process(argv, 120);
    std::smatch m;
    if (r.exit_code != 0 || !std::regex_search(r.output, m, std::regex(R"(^(\d+))")))
      throw std::runtime_error(fmt::format("{} failed (exit {}): {}", join_command(argv), r.exit_code, r.output));
    sub.job_id = m[1];
    // Held until every trial's status names its job, so `status` and `resume` can follow it.
    for (size_t i = 0; i < sub.trial_ids.size(); ++i) {
      TrialStatus s;
      s.reason = fmt::format("submitted as job {}_{}", sub.job_id, i);
      s.job_id = fmt::format("{}_{}", sub.job_id, i);
      write_status(trial_dir(plan.dir, sub.trial_ids[i]), s);
    }
    const auto rel = run_process({"scontrol", "release", sub.job_id}, 60);
    if (rel.exit_code != 0)
      throw std::runtime_error(fmt::format("scontrol release {} failed: {}", sub.job_id, rel.output));
    log::info("submitted job array {} ({} trials, at most {} at once): {}", sub.job_id, sub.trial_ids.size(),
              plan.resources.throttle, sub.script);
    record.push_back({{"job_id", sub.job_id}, {"script", sub.script}, {"trials", sub.trial_ids}, {"time", now()}});
    write_file_atomic(submissions_path, record.dump(2) + "\n");
    out.push_back(std::move(sub));
  }
  return out;
}

std::set<std::string> queued_jobs() {
  // -r: one line per array task, pending ones included, as "<array job>_<task>".
  const auto r = run_process({"squeue", "--me", "--noheader", "--array", "--format=%i"}, 60);
  if (r.exit_code != 0) throw std::runtime_error(fmt::format("squeue failed (exit {}): {}", r.exit_code, r.output));
  std::set<std::string> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

TrialStatus effective_status(const std::string& dir, const std::set<std::string>& queued, bool have_queue) {
  TrialStatus s = read_status(dir);
  const bool waiting = s.state == TrialState::pending || s.state == TrialState::running;
  if (!waiting) return s;
  if (!s.job_id.empty()) {
    if (have_queue && !queued.count(s.job_id)) {
      s.reason = fmt::format("job {} {} without recording a result (cancelled, time limit or node failure)", s.job_id,
                             s.state == TrialState::running ? "ended" : "left the queue");
      s.state = TrialState::cancelled;
    }
  } else if (s.state == TrialState::running && s.host == hostname() && kill(s.pid, 0) != 0 && errno == ESRCH) {
    s.reason = fmt::format("wrapper (pid {}) ended without recording a result", s.pid);
    s.state = TrialState::cancelled;
  }
  return s;
}

bool wait_slurm(const SweepPlan& plan, const std::vector<Trial>& trials, double interval_s, double timeout_s) {
  const double deadline = now() + timeout_s;
  std::set<std::string> queued;
  double last_squeue = 0;
  for (;;) {
    // Status files first; the queue only for trials whose files say they are still in it.
    std::vector<std::string> open;
    for (const auto& t : trials) {
      const auto s = read_status(trial_dir(plan.dir, t.id));
      if (s.state == TrialState::pending || s.state == TrialState::running ||
          (s.state == TrialState::preempted && s.reason.find("requeued") != std::string::npos))
        open.push_back(t.id);
    }
    if (open.empty()) return true;
    if (now() - last_squeue >= interval_s) {
      queued = queued_jobs();
      last_squeue = now();
      bool any_queued = false;
      for (const auto& id : open) any_queued |= queued.count(read_status(trial_dir(plan.dir, id)).job_id) > 0;
      // Nothing of ours is queued any more: what the files say now is final.
      if (!any_queued) return true;
    }
    if (now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(interval_s, 2.0)));
  }
}

std::string status_table(const SweepPlan& plan, const std::set<std::string>& queued, bool have_queue) {
  std::map<std::string, int> counts;
  std::string rows;
  for (const auto& t : plan.trials) {
    const std::string dir = trial_dir(plan.dir, t.id);
    const TrialStatus s = effective_status(dir, queued, have_queue);
    ++counts[to_string(s.state)];
    const auto v = read_validations(dir);
    const auto best = best_validation(v, plan.mode);
    const double elapsed = s.start == 0 ? 0 : (s.end > 0 ? s.end : now()) - s.start;
    rows += fmt::format("{:<12}  {:<9}  {:>8}  {:>6}  {:>8}  {}\n", t.id, to_string(s.state),
                        best ? fmt::format("{:.4f}", best->value) : "-", v.empty() ? 0 : v.back().epoch,
                        s.start == 0 ? "-" : format_duration(elapsed), s.reason);
  }
  std::string summary;
  for (const auto& [state, n] : counts) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, state);
  return fmt::format("sweep {}: {} trials ({})\n{:<12}  {:<9}  {:>8}  {:>6}  {:>8}  {}\n", plan.dir, plan.trials.size(),
                     summary, "trial", "state", plan.metric, "epoch", "elapsed", "reason") +
         rows;
}

}  // namespace avf::jobs
