#include "core/training/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/training/early_stopping.h"

namespace avf {

LrSchedule::LrSchedule(const TrainConfig& train, int64_t total_steps)
    : t_(train), total_steps_(std::max<int64_t>(1, total_steps)), best_(std::numeric_limits<double>::quiet_NaN()) {}

double LrSchedule::rate(int64_t step, int64_t epoch) const {
  if (t_.schedule == "step") {
    const int64_t drops = std::max<int64_t>(0, epoch - t_.decay_start) / t_.decay_every;
    return t_.lr * std::pow(t_.decay_factor, double(drops));
  }
  if (t_.schedule == "cosine") {
    if (step < t_.warmup_steps) return t_.lr * double(step + 1) / double(t_.warmup_steps);
    const double span = double(std::max<int64_t>(1, total_steps_ - t_.warmup_steps));
    const double progress = std::min(1.0, double(step - t_.warmup_steps) / span);
    return t_.min_lr + (t_.lr - t_.min_lr) * 0.5 * (1 + std::cos(M_PI * progress));
  }
  if (t_.schedule == "plateau") return std::max(t_.min_lr, t_.lr * scale_);
  return t_.lr;
}

void LrSchedule::on_validation(double metric) {
  if (t_.schedule != "plateau") return;
  if (improves(metric, best_)) {
    best_ = metric, bad_ = 0;
    return;
  }
  if (++bad_ >= t_.plateau_patience) scale_ *= t_.decay_factor, bad_ = 0;
}

nlohmann::json LrSchedule::to_json() const {
  if (t_.schedule != "plateau") return nlohmann::json::object();
  // best_ is NaN until a validation improves on nothing, and JSON has no NaN: null.
  return {
      {"scale", scale_}, {"best", std::isnan(best_) ? nlohmann::json(nullptr) : nlohmann::json(best_)}, {"bad", bad_}};
}

void LrSchedule::load(const nlohmann::json& state) {
  if (t_.schedule != "plateau" || !state.is_object() || state.empty()) return;
  scale_ = state.at("scale").get<double>();
  best_ = state.at("best").is_null() ? std::numeric_limits<double>::quiet_NaN() : state.at("best").get<double>();
  bad_ = state.at("bad").get<int>();
}

}  // namespace avf
