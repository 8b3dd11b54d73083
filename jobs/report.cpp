#include "jobs/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/base/files.h"
#include "core/base/log.h"
#include "jobs/process.h"

namespace fs = std::filesystem;

namespace avf::jobs {
namespace {

std::vector<std::string> swept_keys(const SweepPlan& plan) {
  std::set<std::string> keys;
  for (const auto& t : plan.trials)
    for (const auto& [k, v] : t.params) keys.insert(k);
  return {keys.begin(), keys.end()};
}

std::string metric_text(const LeaderboardRow& r) { return r.best ? fmt::format("{:.6f}", r.best->value) : ""; }

bool is_number(const std::string& s) {
  try {
    size_t used = 0;
    std::stod(s, &used);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

// One PNG of the metric against `key`: numbers on a numeric axis (logarithmic when the values span
// more than two decades, as learning rates do), anything else as categories.
std::optional<std::string> plot(const SweepPlan& plan, const std::vector<LeaderboardRow>& rows, const std::string& key,
                                const std::string& dir) {
  std::string data;
  bool numeric = true;
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::string> categories;
  for (const auto& r : rows) {
    if (!r.best || std::isnan(r.best->value) || !r.trial.params.count(key)) continue;
    const std::string& v = r.trial.params.at(key);
    if (!is_number(v)) numeric = false;
    if (std::find(categories.begin(), categories.end(), v) == categories.end()) categories.push_back(v);
  }
  if (categories.empty()) return std::nullopt;
  for (const auto& r : rows) {
    if (!r.best || std::isnan(r.best->value) || !r.trial.params.count(key)) continue;
    const std::string& v = r.trial.params.at(key);
    if (numeric) {
      const double x = std::stod(v);
      lo = std::min(lo, x), hi = std::max(hi, x);
      data += fmt::format("{} {}\n", v, r.best->value);
    } else {
      data += fmt::format("{} {}\n", std::find(categories.begin(), categories.end(), v) - categories.begin(),
                          r.best->value);
    }
  }
  std::string safe = key;
  std::replace_if(
      safe.begin(), safe.end(),
      [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-'; }, '_');
  const std::string png = fmt::format("{}/metric-vs-{}.png", dir, safe);
  const std::string dat = fmt::format("{}/metric-vs-{}.dat", dir, safe);
  write_file_atomic(dat, data);
  std::string script = fmt::format(
      "set terminal pngcairo size 800,500\nset output '{}'\nset title '{} vs {}'\nset xlabel '{}'\nset ylabel '{}'\n"
      "set grid\nset key off\n",
      png, plan.metric, key, key, plan.metric);
  if (numeric && lo > 0 && hi / lo > 100) script += "set logscale x\n";
  if (!numeric) {
    std::string tics;
    for (size_t i = 0; i < categories.size(); ++i) tics += fmt::format("{}'{}' {}", i ? ", " : "", categories[i], i);
    script += fmt::format("set xtics ({})\nset xrange [-0.5:{}]\n", tics, double(categories.size()) - 0.5);
  } else if (lo == hi) {
    script += fmt::format("set xrange [{}:{}]\n", lo - 0.5 * std::abs(lo) - 1e-3, hi + 0.5 * std::abs(hi) + 1e-3);
  }
  script += fmt::format("plot '{}' using 1:2 with points pointtype 7 pointsize 1.5\n", dat);
  // Keys and values were checked against the config schema and INI rules; the only quote that could
  // break gnuplot's single-quoted strings is ', which no config key or fusion value contains.
  const std::string gp = fmt::format("{}/metric-vs-{}.gp", dir, safe);
  write_file_atomic(gp, script);
  const auto r = run_process({"gnuplot", gp}, 60);
  if (r.exit_code != 0) {
    log::warn("gnuplot {} failed (exit {}): {}", gp, r.exit_code, r.output);
    return std::nullopt;
  }
  return png;
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<LeaderboardRow> leaderboard(const SweepPlan& plan) {
  std::vector<LeaderboardRow> rows;
  for (const auto& t : plan.trials) {
    const std::string dir = trial_dir(plan.dir, t.id);
    const auto v = read_validations(dir);
    // The trainer keeps `best` by the maximum; in min mode the trial's own last weights stand for it.
    const std::string checkpoint = dir + (plan.mode == "max" ? "/checkpoints/best" : "/checkpoints/last");
    rows.push_back(
        {t, read_status(dir), best_validation(v, plan.mode), int(v.size()), fs::exists(checkpoint) ? checkpoint : ""});
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const LeaderboardRow& a, const LeaderboardRow& b) {
    const bool ha = a.best && !std::isnan(a.best->value), hb = b.best && !std::isnan(b.best->value);
    if (ha != hb) return ha;
    return ha && better(a.best->value, b.best->value, plan.mode);
  });
  return rows;
}

ReportFiles write_report(const SweepPlan& plan) {
  const auto rows = leaderboard(plan);
  const auto keys = swept_keys(plan);
  const std::string dir = plan.dir + "/report";
  fs::create_directories(dir);
  ReportFiles files{dir + "/leaderboard.csv", dir + "/leaderboard.md", {}};

  std::string csv = "rank,trial,state," + plan.metric + ",epoch_of_best,epochs";
  std::string md = fmt::format("# Sweep {}\n\n", fs::path(plan.dir).filename().string());
  if (!rows.empty() && rows.front().best) {
    const auto& b = rows.front();
    md += fmt::format("Best trial: `{}` with {} = {:.6f} (epoch {})  \ncheckpoint: `{}`  \nconfig: `{}`\n\n",
                      b.trial.id, plan.metric, b.best->value, b.best->epoch, b.checkpoint,
                      trial_dir(plan.dir, b.trial.id) + "/config.ini");
  } else {
    md += "No trial has a validation metric yet.\n\n";
  }
  md += fmt::format("| rank | trial | state | {} | epoch of best | epochs |", plan.metric);
  std::string rule = "| --- | --- | --- | --- | --- | --- |";
  for (const auto& k : keys) csv += "," + csv_field(k), md += fmt::format(" `{}` |", k), rule += " --- |";
  csv += ",reason,checkpoint\n";
  md += " reason |\n" + rule + " --- |\n";
  int rank = 0;
  for (const auto& r : rows) {
    ++rank;
    const std::string epoch = r.best ? std::to_string(r.best->epoch) : "";
    csv +=
        fmt::format("{},{},{},{},{},{}", rank, r.trial.id, to_string(r.status.state), metric_text(r), epoch, r.epochs);
    md += fmt::format("| {} | `{}` | {} | {} | {} | {} |", rank, r.trial.id, to_string(r.status.state), metric_text(r),
                      epoch, r.epochs);
    for (const auto& k : keys) {
      const std::string v = r.trial.params.count(k) ? r.trial.params.at(k) : "";
      csv += "," + csv_field(v);
      md += " " + v + " |";
    }
    std::string reason = r.status.reason;
    std::replace(reason.begin(), reason.end(), '|', '/');
    csv += fmt::format(",{},{}\n", csv_field(r.status.reason), csv_field(r.checkpoint));
    md += " " + reason + " |\n";
  }
  write_file_atomic(files.csv, csv);
  for (const auto& k : keys)
    if (auto png = plot(plan, rows, k, dir)) {
      files.plots.push_back(*png);
      md += fmt::format("\n![{} vs {}]({})\n", plan.metric, k, fs::path(*png).filename().string());
    }
  write_file_atomic(files.markdown, md);
  return files;
}

}  // namespace avf::jobs
