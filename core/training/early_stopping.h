// Early stopping on the validation metric, and the one rule for "better" that `best` shares.
// Serialisable so that a resumed run stops exactly where an uninterrupted one would.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>

namespace avf {

// Max mode: higher is better. NaN (e.g. CCC of constant predictions) never improves anything, and
// anything real improves on NaN, which stands for "nothing yet".
bool improves(double candidate, double best);

struct EarlyStopping {
  int patience = 0;  // validations without improvement before stopping; 0 = never stop
  double best = std::numeric_limits<double>::quiet_NaN();
  int64_t best_step = -1;
  int stale = 0;  // validations since the last improvement

  // Records one validation; returns true when `metric` improved on the best so far.
  bool update(double metric, int64_t step);
  bool should_stop() const { return patience > 0 && stale >= patience; }

  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming the missing or mistyped field.
  static EarlyStopping from_json(const nlohmann::json& j);
};

}  // namespace avf
