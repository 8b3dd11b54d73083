// `avf sweep plan|run|resume|status|report` and the hidden `avf sweep trial` that job arrays and the
// local backend start for each trial.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/base/subcommand.h"
#include "jobs/cli.h"
#include "jobs/report.h"
#include "jobs/runner.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace avf {
namespace {

const char* const kUsage =
    "usage: avf sweep plan   <spec> [--out DIR] [--configs]\n"
    "       avf sweep run    <spec> [--backend local|slurm] [--wait] [--out DIR] [--poll S] [--timeout S] [--template "
    "FILE]\n"
    "       avf sweep resume <spec> [same options as run]\n"
    "       avf sweep status <spec|sweep_dir>\n"
    "       avf sweep report <spec|sweep_dir>\n\n"
    "Hyperparameter sweeps: a spec (INI) names a base config, a search space (grid, random), the metric\n"
    "and resources per trial; trials run locally N at a time or as a SLURM job array. See\n"
    "docs/commands.md (avf sweep). `avf sweep <action> --help` shows the options of one action.\n";

CommandSpec action_spec(const std::string& action, const std::string& what) {
  // status and report also take the sweep directory itself: their argument is the "target".
  const bool on_target = action == "status" || action == "report";
  CommandSpec spec;
  spec.name = "sweep " + action;
  spec.summary = what;
  spec.usage = fmt::format("avf sweep {} <{}> [options]", action, on_target ? "spec|sweep_dir" : "spec");
  spec.options.add_options()(on_target ? "target" : "spec", po::value<std::string>(),
                             on_target ? "the sweep spec (INI) or its sweep directory" : "the sweep spec (INI)");
  spec.positional.add(on_target ? "target" : "spec", 1);
  return spec;
}

jobs::SweepSpec read_spec(const po::variables_map& vm) {
  auto spec = jobs::load_sweep_spec(vm["spec"].as<std::string>());
  if (vm.count("out")) spec.out = fs::absolute(vm["out"].as<std::string>()).lexically_normal().string();
  return spec;
}

// status and report take the spec or the sweep directory itself.
jobs::SweepPlan plan_of(const std::string& target) {
  const std::string dir = fs::is_directory(target) ? target : jobs::load_sweep_spec(target).out;
  if (!fs::exists(dir + "/sweep.json"))
    throw ConfigError(fmt::format("{}: no sweep was run there yet (see `avf sweep run`)", dir));
  return jobs::load_plan(dir);
}

int plan(const std::vector<std::string>& args) {
  auto cmd = action_spec("plan", "Print the trials of a spec: stable ids and parameters (nothing is written).");
  cmd.options.add_options()("out", po::value<std::string>(), "sweep directory (default: [sweep] out)")(
      "configs", "print each trial's full configuration too");
  auto parsed = jobs::parse_command(cmd, args, {"spec"});
  if (!parsed) return exit_code::ok;
  const auto spec = read_spec(parsed->vm);
  const auto trials = jobs::plan_trials(spec);
  std::printf("sweep %s: %zu trials, metric %s (%s), out %s\n", spec.name.c_str(), trials.size(), spec.metric.c_str(),
              spec.mode.c_str(), spec.out.c_str());
  for (size_t i = 0; i < trials.size(); ++i) {
    std::string params;
    for (const auto& [k, v] : trials[i].params) params += fmt::format("{}{}={}", params.empty() ? "" : " ", k, v);
    std::printf("%4zu  %s  %s\n", i, trials[i].id.c_str(), params.c_str());
    if (parsed->vm.count("configs")) {
      const auto dir = jobs::trial_dir(spec.out, trials[i].id);
      std::printf("%s\n", config_to_ini(jobs::trial_config(spec, trials[i], dir)).c_str());
    }
  }
  return exit_code::ok;
}

int run(const std::vector<std::string>& args, bool resume) {
  auto cmd = action_spec(resume ? "resume" : "run",
                         resume ? "Re-run the failed, cancelled, preempted and never-started trials of a sweep; "
                                  "finished trials are never re-run."
                                : "Run a sweep: trials not yet done, locally N at a time or as a SLURM job array.");
  cmd.options.add_options()("backend", po::value<std::string>()->default_value("local"), "local | slurm")(
      "wait", "slurm: follow the array until every trial ended (local always waits)")(
      "out", po::value<std::string>(), "sweep directory (default: [sweep] out)")(
      "poll", po::value<double>()->default_value(30), "slurm --wait: seconds between queue checks (one squeue each)")(
      "timeout", po::value<double>()->default_value(7 * 86400), "slurm --wait: give up after this many seconds")(
      "template", po::value<std::string>(),
      "slurm: sbatch template instead of the built-in slurm/sweep-array.sbatch.in");
  auto parsed = jobs::parse_command(cmd, args, {"spec"});
  if (!parsed) return exit_code::ok;
  const auto& vm = parsed->vm;
  const std::string backend = vm["backend"].as<std::string>();
  if (backend != "local" && backend != "slurm")
    throw ConfigError(fmt::format("command line: --backend must be local or slurm, got '{}'", backend));
  const auto spec = read_spec(vm);
  if (resume && !fs::exists(spec.out + "/sweep.json"))
    throw ConfigError(fmt::format("{}: no sweep was run there yet (see `avf sweep run`)", spec.out));
  jobs::prepare_sweep(spec, jobs::plan_trials(spec));
  const auto plan = jobs::load_plan(spec.out);
  const bool slurm = backend == "slurm";
  const std::set<std::string> queued = slurm ? jobs::queued_jobs() : std::set<std::string>{};
  const auto pending = jobs::trials_to_run(plan, queued, slurm);
  log::info("sweep {}: {} trials, {} to run, the others are finished or still queued", spec.out, plan.trials.size(),
            pending.size());
  if (!slurm) return pending.empty() ? exit_code::ok : jobs::run_local(plan, pending);

  if (!pending.empty())
    jobs::submit_slurm(plan, pending, jobs::max_array_size(),
                       vm.count("template") ? vm["template"].as<std::string>() : "");
  if (!vm.count("wait")) {
    std::printf("submitted %zu trials; follow them with: avf sweep status %s\n", pending.size(), spec.out.c_str());
    return exit_code::ok;
  }
  // Follows every trial of the sweep, also those an earlier run submitted.
  if (!jobs::wait_slurm(plan, plan.trials, vm["poll"].as<double>(), vm["timeout"].as<double>())) {
    log::error("sweep {}: not finished after {:.0f} s; it goes on in the cluster", spec.out,
               vm["timeout"].as<double>());
    return exit_code::failure;
  }
  const auto final_queue = jobs::queued_jobs();
  std::fputs(jobs::status_table(plan, final_queue, true).c_str(), stdout);
  for (const auto& t : plan.trials) {
    const auto s = jobs::effective_status(jobs::trial_dir(plan.dir, t.id), final_queue, true).state;
    if (s != jobs::TrialState::done && s != jobs::TrialState::stopped) return exit_code::failure;
  }
  return exit_code::ok;
}

int status(const std::vector<std::string>& args) {
  auto cmd = action_spec("status", "One line per trial: state, best metric so far, epochs, elapsed, reason.");
  auto parsed = jobs::parse_command(cmd, args, {"target"});
  if (!parsed) return exit_code::ok;
  const auto plan = plan_of(parsed->vm["target"].as<std::string>());
  // The queue is asked only when some trial went through SLURM, and then once.
  bool any_slurm = false;
  for (const auto& t : plan.trials) any_slurm |= !jobs::read_status(jobs::trial_dir(plan.dir, t.id)).job_id.empty();
  std::fputs(jobs::status_table(plan, any_slurm ? jobs::queued_jobs() : std::set<std::string>{}, any_slurm).c_str(),
             stdout);
  return exit_code::ok;
}

int report(const std::vector<std::string>& args) {
  auto cmd = action_spec("report", "Leaderboard (CSV, Markdown) sorted by the metric, best checkpoint, plots.");
  auto parsed = jobs::parse_command(cmd, args, {"target"});
  if (!parsed) return exit_code::ok;
  const auto plan = plan_of(parsed->vm["target"].as<std::string>());
  const auto files = jobs::write_report(plan);
  std::fputs(read_file(files.markdown).c_str(), stdout);
  std::printf("\nwritten: %s, %s", files.csv.c_str(), files.markdown.c_str());
  for (const auto& p : files.plots) std::printf(", %s", p.c_str());
  std::printf("\n");
  return exit_code::ok;
}

int trial(const std::vector<std::string>& args) {
  // Everything after "--" is the launcher (srun ..., mpirun ...), passed through untouched.
  const auto dash = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), dash);
  const std::vector<std::string> launcher(dash == args.end() ? dash : dash + 1, args.end());
  CommandSpec cmd{"sweep trial", "Run one trial of a sweep (started by the job array or the local backend).",
                  "avf sweep trial <sweep_dir> <trial_id> [--slurm] [-- launcher...]"};
  cmd.options.add_options()("sweep-dir", po::value<std::string>(), "sweep directory")(
      "id", po::value<std::string>(), "trial id")("slurm", "record the SLURM job and requeue after preemption");
  cmd.positional.add("sweep-dir", 1).add("id", 1);
  auto parsed = jobs::parse_command(cmd, own, {"sweep-dir", "id"});
  if (!parsed) return exit_code::ok;
  return jobs::run_trial(parsed->vm["sweep-dir"].as<std::string>(), parsed->vm["id"].as<std::string>(), launcher,
                         parsed->vm.count("slurm") > 0);
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  const std::string action = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (action == "plan") return plan(rest);
  if (action == "run") return run(rest, false);
  if (action == "resume") return run(rest, true);
  if (action == "status") return status(rest);
  if (action == "report") return report(rest);
  if (action == "trial") return trial(rest);
  if (action == "--help" || action == "-h" || action == "help") {
    std::fputs(kUsage, stdout);
    return exit_code::ok;
  }
  std::fputs(kUsage, stderr);
  if (action.empty()) throw ConfigError("command line: an action is needed");
  std::string near;
  for (const char* a : {"plan", "run", "resume", "status", "report"})
    if (edit_distance(action, a) <= 2) near = a;
  throw ConfigError(fmt::format("command line: unknown action '{}'{}", action,
                                near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
}

}  // namespace avf
