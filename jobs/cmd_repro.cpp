// `avf repro <config> --seeds N`: the same configuration with seeds 1..N plus a second run of seed 1,
// as a sweep (local or one job array). Reports mean ± std of each validation CCC over the seeds,
// whether the two seed-1 runs ended with bit-identical weights, and where and with what it ran.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/base/subcommand.h"
#include "core/base/version.h"
#include "jobs/cli.h"
#include "jobs/runner.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace avf {
namespace {

std::string first_match(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) {
      const auto colon = line.find(':');
      const auto b = line.find_first_not_of(" \t", colon + 1);
      return b == std::string::npos ? "" : line.substr(b);
    }
  return "unknown";
}

nlohmann::json hardware() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return {{"host", host},
          {"nproc", std::thread::hardware_concurrency()},
          {"cpu_model", first_match("/proc/cpuinfo", "model name")},
          {"memory", first_match("/proc/meminfo", "MemTotal")}};
}

std::string sha256_or_empty(const std::string& path) { return fs::exists(path) ? sha256_file(path) : ""; }

}  // namespace

int cmd_repro(const std::vector<std::string>& args) {
  CommandSpec cmd{
      "repro", "Run one config with N seeds: mean ± std of each CCC, and a bit-identical check of two same-seed runs.",
      "avf repro <config> --seeds N [--backend local|slurm] [--out DIR] [options]"};
  cmd.options.add_options()("config-file", po::value<std::string>(), "the training configuration (INI)")(
      "seeds", po::value<int>(), "number of seeds (1..N); seed 1 runs twice")(
      "backend", po::value<std::string>()->default_value("local"),
      "local | slurm (one job array, followed to the end)")(
      "out", po::value<std::string>(), "directory of the runs and the report (default: repro-<config name>)")(
      "ranks", po::value<int>()->default_value(1), "MPI ranks per run (the world size)")(
      "cpus-per-rank", po::value<int>()->default_value(1), "cores per rank")(
      "time", po::value<std::string>()->default_value("01:00:00"), "slurm: time limit per run")(
      "throttle", po::value<int>()->default_value(2), "runs at once")("poll", po::value<double>()->default_value(10),
                                                                      "slurm: seconds between queue checks")(
      "timeout", po::value<double>()->default_value(86400), "slurm: give up after this many seconds")(
      "test-perturb", po::value<std::string>(),
      "TEST ONLY: KEY=VALUE applied to the second seed-1 run alone, to prove that the check catches a difference");
  cmd.positional.add("config-file", 1);
  auto parsed = jobs::parse_command(cmd, args, {"config-file", "seeds"});
  if (!parsed) return exit_code::ok;
  const auto& vm = parsed->vm;
  const std::string config_path = vm["config-file"].as<std::string>();
  const int seeds = vm["seeds"].as<int>();
  if (seeds < 1) throw ConfigError(fmt::format("command line: --seeds must be at least 1, got {}", seeds));
  const std::string backend = vm["backend"].as<std::string>();
  if (backend != "local" && backend != "slurm")
    throw ConfigError(fmt::format("command line: --backend must be local or slurm, got '{}'", backend));
  if (!fs::exists(config_path)) throw ConfigError(fmt::format("command line: config '{}' does not exist", config_path));

  jobs::SweepSpec spec;
  spec.path = fs::absolute(config_path).string();
  spec.name = jobs::plain_name("repro-" + fs::path(config_path).stem().string());
  spec.base = spec.path;
  spec.out = fs::absolute(vm.count("out") ? vm["out"].as<std::string>() : spec.name).lexically_normal().string();
  spec.resources.ranks = vm["ranks"].as<int>();
  spec.resources.cpus_per_rank = vm["cpus-per-rank"].as<int>();
  spec.resources.time = vm["time"].as<std::string>();
  spec.resources.throttle = vm["throttle"].as<int>();

  std::vector<jobs::Trial> trials;
  for (int s = 1; s <= seeds; ++s) {
    jobs::Trial t{"", {{"train.seed", std::to_string(s)}}};
    t.id = jobs::trial_id(t.params);
    trials.push_back(t);
  }
  // The replica has seed 1's parameters; its id differs (a marker only the id sees), so it gets its
  // own directory.
  jobs::Trial replica = trials.front();
  if (vm.count("test-perturb")) {
    const std::string kv = vm["test-perturb"].as<std::string>();
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw ConfigError("command line: --test-perturb expects KEY=VALUE, got '" + kv + "'");
    replica.params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto marked = replica.params;
  marked["repro.replica"] = "2";
  replica.id = jobs::trial_id(marked);
  trials.push_back(replica);
  for (const auto& t : trials) jobs::trial_config(spec, t, "");  // a bad config fails here, before any run

  jobs::prepare_sweep(spec, trials);
  const auto plan = jobs::load_plan(spec.out);
  int rc = exit_code::ok;
  if (backend == "local") {
    rc = jobs::run_local(plan, jobs::trials_to_run(plan, {}, false));
  } else {
    const auto pending = jobs::trials_to_run(plan, jobs::queued_jobs(), true);
    if (!pending.empty()) {
      jobs::submit_slurm(plan, pending, jobs::max_array_size());
      if (!jobs::wait_slurm(plan, pending, vm["poll"].as<double>(), vm["timeout"].as<double>())) {
        log::error("repro {}: not finished after {:.0f} s", spec.out, vm["timeout"].as<double>());
        return exit_code::failure;
      }
    }
  }
  if (rc == exit_code::preempted) return rc;

  // Mean ± std (sample) over the seeds of each CCC at each run's best validation.
  std::map<std::string, std::vector<double>> values;
  nlohmann::json runs = nlohmann::json::array();
  std::set<std::string> hosts;
  bool all_done = true;
  for (const auto& t : trials) {
    const std::string dir = jobs::trial_dir(plan.dir, t.id);
    const auto status = jobs::read_status(dir);
    all_done &= status.state == jobs::TrialState::done;
    if (!status.host.empty()) hosts.insert(status.host);
    const auto best = jobs::best_validation(jobs::read_validations(dir), plan.mode);
    const bool is_replica = t.id == replica.id;
    runs.push_back({{"id", t.id},
                    {"seed", t.params.at("train.seed")},
                    {"replica", is_replica},
                    {"state", jobs::to_string(status.state)},
                    {"reason", status.reason},
                    {"weights_sha256", sha256_or_empty(dir + "/checkpoints/last/model.pt")},
                    {"best", best ? best->record : nlohmann::json()}});
    if (is_replica || !best) continue;
    values["metric"].push_back(best->value);
    if (best->record.contains("ccc"))
      for (const auto& [k, v] : best->record["ccc"].items())
        if (v.is_number()) values[k].push_back(v.get<double>());
  }
  const std::string sha_a = runs.front()["weights_sha256"], sha_b = runs.back()["weights_sha256"];
  const bool identical = !sha_a.empty() && sha_a == sha_b;

  std::string md = fmt::format(
      "# Reproducibility: {}\n\n{} seeds, world size {} ({} rank(s) x {} core(s)), backend {}\n\n", config_path, seeds,
      spec.resources.ranks, spec.resources.ranks, spec.resources.cpus_per_rank, backend);
  md += "| CCC | mean | std | n |\n| --- | --- | --- | --- |\n";
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& [name, v] : values) {
    double mean = 0, var = 0;
    for (double x : v) mean += x / double(v.size());
    for (double x : v) var += (x - mean) * (x - mean);
    const double sd = v.size() > 1 ? std::sqrt(var / double(v.size() - 1)) : 0.0;
    summary[name] = {{"mean", mean}, {"std", sd}, {"n", v.size()}};
    md += fmt::format("| {} | {:.4f} | {:.4f} | {} |\n", name == "metric" ? "metric (" + plan.metric + ")" : name, mean,
                      sd, v.size());
  }
  md += fmt::format(
      "\nBit-identical check (seed 1 twice, sha256 of checkpoints/last/model.pt): **{}**\n  run 1: {}\n  run 2: {}\n",
      identical ? "PASS" : "FAIL", sha_a.empty() ? "(no weights)" : sha_a, sha_b.empty() ? "(no weights)" : sha_b);
  if (vm.count("test-perturb"))
    md += fmt::format("  (test-only perturbation of run 2: {})\n", vm["test-perturb"].as<std::string>());
  std::string host_list;
  for (const auto& h : hosts) host_list += (host_list.empty() ? "" : ", ") + h;
  const auto hw = hardware();
  md += fmt::format("\n## Environment\n\nrun on: {}\nreport written on {}: {} CPUs ({}), memory {}\n\n```\n{}```\n",
                    host_list.empty() ? "-" : host_list, hw["host"].get<std::string>(), hw["nproc"].get<unsigned>(),
                    hw["cpu_model"].get<std::string>(), hw["memory"].get<std::string>(), build_info());
  md += "\n## Runs\n\n| run | seed | state | weights sha256 | reason |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& r : runs)
    md += fmt::format("| `{}`{} | {} | {} | {} | {} |\n", r["id"].get<std::string>(),
                      r["replica"].get<bool>() ? " (again)" : "", r["seed"].get<std::string>(),
                      r["state"].get<std::string>(), r["weights_sha256"].get<std::string>().substr(0, 16),
                      r["reason"].get<std::string>());
  const nlohmann::json report{{"config", spec.path},
                              {"seeds", seeds},
                              {"world_size", spec.resources.ranks},
                              {"backend", backend},
                              {"ccc", summary},
                              {"bit_identical", identical},
                              {"code", {{"version", version()}, {"commit", git_commit()}}},
                              {"build_info", build_info()},
                              {"hardware", hw},
                              {"hosts", hosts},
                              {"runs", runs}};
  write_file_atomic(spec.out + "/repro.md", md);
  write_file_atomic(spec.out + "/repro.json", report.dump(2) + "\n");
  std::fputs(md.c_str(), stdout);
  std::printf("\nwritten: %s/repro.md, %s/repro.json\n", spec.out.c_str(), spec.out.c_str());
  if (!all_done) log::error("repro: not every run finished; see the table above");
  if (!identical) log::error("repro: the two seed-1 runs did not end with identical weights");
  return all_done && identical ? exit_code::ok : exit_code::failure;
}

}  // namespace avf
