// Where training time goes: each optimizer step split into data wait, forward (and loss), backward
// (gradient hooks launch all-reduces as they go), exposed communication (what finalize() still
// waits for), optimizer (zero_grad and step), summed over an epoch. Written to metrics.jsonl with
// each epoch's "train" record; `tools/bench` reads them. On CUDA the phases are host-side times:
// kernels run asynchronously, so work launched in one phase may be paid for in a later one.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "core/base/lap.h"

namespace avf {

struct StepTimes {
  double data_wait = 0, forward = 0, backward = 0, exposed_comm = 0, optimizer = 0;
  int64_t steps = 0;
  int64_t samples = 0;  // over all ranks

  double total() const { return data_wait + forward + backward + exposed_comm + optimizer; }
  // Seconds per phase, per step and samples/s over the training steps only (no validation).
  nlohmann::json to_json() const;
};

// The largest resident set this process has had, in MiB (getrusage).
double peak_rss_mib();

}  // namespace avf
