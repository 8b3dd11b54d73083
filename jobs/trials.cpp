#include "jobs/trials.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "core/base/files.h"
#include "core/base/metrics_log.h"

namespace fs = std::filesystem;

namespace avf::jobs {

namespace {
const char* const kStateNames[] = {"pending", "running", "done", "failed", "stopped", "preempted", "cancelled"};
}

std::string to_string(TrialState s) { return kStateNames[int(s)]; }

TrialState trial_state_from_string(const std::string& s) {
  for (int i = 0; i < int(std::size(kStateNames)); ++i)
    if (s == kStateNames[i]) return TrialState(i);
  throw std::invalid_argument("unknown trial state '" + s + "'");
}

nlohmann::json TrialStatus::to_json() const {
  return {{"state", to_string(state)}, {"reason", reason}, {"start", start}, {"end", end}, {"exit_code", exit_code},
          {"restarts", restarts},      {"job_id", job_id}, {"host", host},   {"pid", pid}};
}

TrialStatus TrialStatus::from_json(const nlohmann::json& j) {
  TrialStatus s;
  s.state = trial_state_from_string(j.at("state").get<std::string>());
  s.reason = j.at("reason").get<std::string>();
  s.start = j.at("start").get<double>();
  s.end = j.at("end").get<double>();
  s.exit_code = j.at("exit_code").get<int>();
  s.restarts = j.at("restarts").get<int>();
  s.job_id = j.at("job_id").get<std::string>();
  s.host = j.at("host").get<std::string>();
  s.pid = j.at("pid").get<int>();
  return s;
}

std::string trial_dir(const std::string& sweep_dir, const std::string& id) {
  return (fs::path(sweep_dir) / "trials" / id).string();
}

TrialStatus read_status(const std::string& dir) {
  const std::string path = dir + "/status.json";
  if (!fs::exists(path)) return {};
  try {
    return TrialStatus::from_json(nlohmann::json::parse(read_file(path)));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a trial status file: {}", path, e.what()));
  }
}

void write_status(const std::string& dir, const TrialStatus& s) {
  write_file_atomic(dir + "/status.json", s.to_json().dump(2) + "\n");
}

std::vector<Validation> read_validations(const std::string& dir) {
  std::vector<Validation> out;
  const std::string path = dir + "/metrics.jsonl";
  if (!fs::exists(path)) return out;
  for (auto& r : read_metrics(path)) {
    if (r.value("kind", "") != "validation" || !r.contains("metric") || !r.contains("epoch")) continue;
    // null stands for NaN in JSON (e.g. the CCC of constant predictions).
    const double v = r["metric"].is_number() ? r["metric"].get<double>() : std::nan("");
    out.push_back({r["epoch"].get<int>(), v, std::move(r)});
  }
  return out;
}

bool trainer_finished(const std::string& dir) {
  const std::string path = dir + "/metrics.jsonl";
  if (!fs::exists(path)) return false;
  const auto records = read_metrics(path);
  return !records.empty() && records.back().value("kind", "") == "done";
}

bool better(double a, double b, const std::string& mode) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return mode == "min" ? a < b : a > b;
}

std::optional<Validation> best_validation(const std::vector<Validation>& v, const std::string& mode) {
  std::optional<Validation> best;
  for (const auto& x : v)
    if (!best || better(x.value, best->value, mode)) best = x;
  return best;
}

namespace {

// Best value of a trial over its validations up to `epoch`; nullopt when it has not reached it.
std::optional<double> best_up_to(const std::vector<Validation>& v, int epoch, const std::string& mode) {
  if (v.empty() || v.back().epoch < epoch) return std::nullopt;
  double best = std::nan("");
  for (const auto& x : v)
    if (x.epoch <= epoch && better(x.value, best, mode)) best = x.value;
  return best;
}

// Linear-interpolated quantile q in [0, 1] of non-empty `x`.
double quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double pos = q * double(x.size() - 1);
  const size_t lo = size_t(std::floor(pos));
  const size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (pos - double(lo)) * (x[hi] - x[lo]);
}

}  // namespace

std::string early_stop_reason(const EarlyStopRule& rule, const std::string& mode, const std::vector<Validation>& own,
                              const std::vector<std::vector<Validation>>& others) {
  if (rule.rule == "none" || own.empty()) return "";
  const int epoch = own.back().epoch;
  if (epoch < rule.grace) return "";
  const double mine = *best_up_to(own, epoch, mode);
  std::vector<double> peers;
  for (const auto& o : others)
    if (auto b = best_up_to(o, epoch, mode); b && !std::isnan(*b)) peers.push_back(*b);

  if (rule.rule == "median") {
    if (int(peers.size()) < rule.min_trials) return "";
    const double median = quantile(peers, 0.5);
    if (better(median, mine, mode))
      return fmt::format(
          "median rule at epoch {}: best metric {:.4f} is worse than the median {:.4f} of {} other trials", epoch, mine,
          median, peers.size());
    return "";
  }
  // asha: only at rung epochs grace * eta^k.
  int64_t rung = rule.grace;
  while (rung < epoch) rung *= rule.eta;
  if (rung != epoch || peers.empty()) return "";
  // The top 1/eta go on: in max mode the cutoff is the (1 - 1/eta) quantile, in min mode the 1/eta one.
  const double q = mode == "min" ? 1.0 / rule.eta : 1.0 - 1.0 / rule.eta;
  const double cutoff = quantile(peers, q);
  if (better(cutoff, mine, mode))
    return fmt::format(
        "asha rung at epoch {}: best metric {:.4f} is not in the top 1/{} (cutoff {:.4f} over {} trials)", epoch, mine,
        rule.eta, cutoff, peers.size());
  return "";
}

void prepare_sweep(const SweepSpec& spec, const std::vector<Trial>& trials) {
  fs::create_directories(fs::path(spec.out) / "trials");
  nlohmann::json plan{{"spec", spec.path},
                      {"name", spec.name},
                      {"metric", spec.metric},
                      {"mode", spec.mode},
                      {"resources",
                       {{"ranks", spec.resources.ranks},
                        {"cpus_per_rank", spec.resources.cpus_per_rank},
                        {"gpus_per_rank", spec.resources.gpus_per_rank},
                        {"time", spec.resources.time},
                        {"throttle", spec.resources.throttle},
                        {"signal", spec.resources.signal},
                        {"signal_lead", spec.resources.signal_lead},
                        {"partition", spec.resources.partition},
                        {"account", spec.resources.account}}},
                      {"early_stopping",
                       {{"rule", spec.early_stopping.rule},
                        {"grace", spec.early_stopping.grace},
                        {"min_trials", spec.early_stopping.min_trials},
                        {"eta", spec.early_stopping.eta}}},
                      {"trials", nlohmann::json::array()}};
  for (const auto& t : trials) {
    plan["trials"].push_back({{"id", t.id}, {"params", t.params}});
    const std::string dir = trial_dir(spec.out, t.id);
    fs::create_directories(dir);
    // The id covers the swept parameters only. A trial that ran (or runs, or will resume) with
    // another base config or [fixed] values must not be taken for this one: its results would be
    // skipped over as finished, or its checkpoint resumed under another configuration.
    const std::string ini = config_to_ini(trial_config(spec, t, dir)), path = dir + "/config.ini";
    const TrialState state = read_status(dir).state;
    const bool ran = state == TrialState::done || state == TrialState::stopped || state == TrialState::running ||
                     state == TrialState::preempted;
    if (ran && fs::exists(path) && read_file(path) != ini)
      throw ConfigError(
          fmt::format("{}: trial {} ({}) ran with another configuration than the spec gives it now "
                      "(base config or [fixed] changed?); use another sweep directory (--out)",
                      path, t.id, to_string(state)));
    write_file_atomic(path, ini);
  }
  write_file_atomic(spec.out + "/spec.ini", read_file(spec.path));
  write_file_atomic(spec.out + "/sweep.json", plan.dump(2) + "\n");
}

SweepPlan load_plan(const std::string& sweep_dir) {
  const std::string path = sweep_dir + "/sweep.json";
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    SweepPlan p;
    p.dir = fs::absolute(sweep_dir).lexically_normal().string();
    p.spec_path = j.at("spec");
    p.name = j.at("name");
    p.metric = j.at("metric");
    p.mode = j.at("mode");
    const auto& r = j.at("resources");
    p.resources = {r.at("ranks"),  r.at("cpus_per_rank"), r.at("gpus_per_rank"), r.at("time"),   r.at("throttle"),
                   r.at("signal"), r.at("signal_lead"),   r.at("partition"),     r.at("account")};
    const auto& e = j.at("early_stopping");
    p.early_stopping = {e.at("rule"), e.at("grace"), e.at("min_trials"), e.at("eta")};
    for (const auto& t : j.at("trials")) p.trials.push_back({t.at("id"), t.at("params")});
    return p;
  } catch (const FileError&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a sweep plan: {}", path, e.what()));
  }
}

}  // namespace avf::jobs
