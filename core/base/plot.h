// Plots people look at, rendered to PNG by gnuplot (run without a shell; a missing gnuplot is a
// warning, not a failure of the run that produced the data).
#pragma once
#include <string>
#include <vector>

namespace avf {

// Prediction vs. ground truth over time, one panel per target, from a CSV with columns
// frame,time,<t>,<t>_label,... (what `avf evaluate` and `avf predict` write).
bool plot_prediction_csv(const std::string& csv, const std::string& png, const std::string& title,
                         const std::vector<std::string>& targets);
// Training curves from a run's metrics.jsonl: training loss and validation CCC per target vs. step.
bool plot_training_curves(const std::string& metrics_jsonl, const std::string& png, const std::string& title);
// Runs gnuplot on `script` (written next to the PNG as <png>.gp). Returns false (with a warning) on failure.
bool run_gnuplot(const std::string& script, const std::string& png);

}  // namespace avf
