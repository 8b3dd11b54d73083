#include "core/base/plot.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>

#include "core/base/log.h"
#include "core/base/metrics_log.h"

extern char** environ;

namespace avf {

bool run_gnuplot(const std::string& script, const std::string& png) {
  const std::string gp = png + ".gp";
  std::ofstream(gp) << script;
  const char* argv[] = {"gnuplot", gp.c_str(), nullptr};
  pid_t pid = 0;
  int status = 0;
  if (posix_spawnp(&pid, "gnuplot", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0 ||
      waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log::warn("gnuplot could not draw {} (is gnuplot installed? script: {})", png, gp);
    return false;
  }
  return true;
}

bool plot_prediction_csv(const std::string& csv, const std::string& png, const std::string& title,
                         const std::vector<std::string>& targets) {
  std::string s = fmt::format(
      "set terminal pngcairo noenhanced size 1200,{} font 'sans,11'\nset output '{}'\nset datafile separator ','\n"
      "set key outside right top\nset grid\nset multiplot layout {},1 title '{}'\n",
      300 * targets.size() + 60, png, targets.size(), title);
  for (size_t t = 0; t < targets.size(); ++t) {
    const size_t pred_col = 3 + 2 * t, label_col = pred_col + 1;
    s += fmt::format(
        "set xlabel 'time (s)'\nset ylabel '{0}'\n"
        "plot '{1}' every ::1 using 2:{3} with lines lw 2 lc rgb '#333333' title 'ground truth', "
        "'{1}' every ::1 using 2:{2} with lines lw 2 lc rgb '#d62728' title 'prediction'\n",
        targets[t], csv, pred_col, label_col);
  }
  s += "unset multiplot\n";
  return run_gnuplot(s, png);
}

bool plot_training_curves(const std::string& metrics_jsonl, const std::string& png, const std::string& title) {
  // gnuplot reads columns: write the two series as data files next to the PNG.
  std::ofstream train(png + ".train.dat"), valid(png + ".valid.dat");
  std::vector<std::string> targets;
  for (const auto& r : read_metrics(metrics_jsonl)) {
    if (r.value("kind", "") == "train" && r.contains("loss") && r["loss"].is_number())
      train << r["step"] << " " << r["loss"] << "\n";
    if (r.value("kind", "") == "validation" && r.contains("ccc")) {
      if (targets.empty())
        for (const auto& [t, v] : r["ccc"].items()) targets.push_back(t);
      valid << r["step"];
      for (const auto& t : targets)
        valid << " " << (r["ccc"].contains(t) && r["ccc"][t].is_number() ? r["ccc"][t].get<double>() : 0.0);
      valid << "\n";
    }
  }
  train.close(), valid.close();
  std::string s = fmt::format(
      "set terminal pngcairo noenhanced size 1000,700 font 'sans,11'\nset output '{0}'\nset grid\nset key outside "
      "right top\n"
      "set multiplot layout 2,1 title '{1}'\nset xlabel 'optimizer step'\nset ylabel 'training loss (1 - CCC)'\n"
      "plot '{0}.train.dat' using 1:2 with linespoints lw 2 title 'training loss'\n"
      "set ylabel 'validation CCC'\nplot ",
      png, title);
  for (size_t t = 0; t < targets.size(); ++t)
    s += fmt::format("{}'{}.valid.dat' using 1:{} with linespoints lw 2 title '{}'", t ? ", " : "", png, t + 2,
                     targets[t]);
  if (targets.empty()) s += "0 notitle";
  s += "\nunset multiplot\n";
  return run_gnuplot(s, png);
}

}  // namespace avf
