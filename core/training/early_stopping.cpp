#include "core/training/early_stopping.h"

#include <cmath>
#include <stdexcept>

namespace avf {

bool improves(double candidate, double best) {
  return !std::isnan(candidate) && (std::isnan(best) || candidate > best);
}

bool EarlyStopping::update(double metric, int64_t step) {
  if (improves(metric, best)) {
    best = metric;
    best_step = step;
    stale = 0;
    return true;
  }
  ++stale;
  return false;
}

nlohmann::json EarlyStopping::to_json() const {
  // JSON has no NaN; null stands for "no best yet".
  return {{"patience", patience},
          {"best", std::isnan(best) ? nlohmann::json(nullptr) : nlohmann::json(best)},
          {"best_step", best_step},
          {"stale", stale}};
}

EarlyStopping EarlyStopping::from_json(const nlohmann::json& j) {
  try {
    EarlyStopping e;
    e.patience = j.at("patience").get<int>();
    e.best = j.at("best").is_null() ? std::numeric_limits<double>::quiet_NaN() : j.at("best").get<double>();
    e.best_step = j.at("best_step").get<int64_t>();
    e.stale = j.at("stale").get<int>();
    return e;
  } catch (const nlohmann::json::exception& ex) {
    throw std::invalid_argument("early-stopping state: " + std::string(ex.what()));
  }
}

}  // namespace avf
