// What a sweep produced: the leaderboard (CSV and Markdown, best first), the best trial's checkpoint
// and config, and plots of the metric against each swept parameter (gnuplot PNG).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "jobs/trials.h"

namespace avf::jobs {

struct LeaderboardRow {
  Trial trial;
  TrialStatus status;
  std::optional<Validation> best;  // best validation by the sweep's metric and mode
  int epochs = 0;                  // validations recorded
  std::string checkpoint;          // <trial>/checkpoints/best (max mode) or last; "" when missing
};

// Every trial of the plan, those with a metric first, best first; ties and trials without a metric
// in plan order.
std::vector<LeaderboardRow> leaderboard(const SweepPlan& plan);

struct ReportFiles {
  std::string csv, markdown;
  std::vector<std::string> plots;  // empty when gnuplot is missing (a warning says so)
};
// Writes <sweep>/report/leaderboard.{csv,md} and metric-vs-<key>.png for each swept key.
ReportFiles write_report(const SweepPlan& plan);

// Quotes a CSV field when it needs it (RFC 4180).
std::string csv_field(const std::string& text);

}  // namespace avf::jobs
