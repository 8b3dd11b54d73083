// Learning-rate schedules (train.schedule), torch-free. The rate of an optimizer step is a function
// of where the run is (constant, step, cosine) or also of the validations so far (plateau); the
// plateau's state goes into every checkpoint, so a resumed run follows the uninterrupted one's rates.
//   constant  lr
//   step      lr * decay_factor ^ floor(max(0, epoch - decay_start) / decay_every): the rate stays for
//             decay_start epochs, then drops every decay_every epochs (the authors: x0.8 every 2 after 15)
//   cosine    linear warm-up to lr over warmup_steps, then lr -> min_lr along half a cosine by the last step
//   plateau   lr * decay_factor ^ (drops), a drop after plateau_patience validations without
//             improvement of the checkpoint metric; never below min_lr
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "core/base/config.h"

namespace avf {

class LrSchedule {
 public:
  // total_steps: the run's optimizer steps (epochs x steps per epoch, or max-steps when smaller).
  LrSchedule(const TrainConfig& train, int64_t total_steps);

  // The rate of the optimizer step that starts at `step` (steps done) in `epoch`.
  double rate(int64_t step, int64_t epoch) const;
  // After each validation (plateau only; the others ignore it). NaN never counts as an improvement.
  void on_validation(double metric);

  nlohmann::json to_json() const;  // the plateau's state; {} for the stateless schedules
  void load(const nlohmann::json& state);

 private:
  TrainConfig t_;
  int64_t total_steps_;
  double scale_ = 1;  // plateau: product of the drops so far
  double best_;       // plateau: best metric so far (NaN: none yet)
  int bad_ = 0;       // plateau: validations since the last improvement or drop
};

}  // namespace avf
