#include "core/training/step_times.h"

#include <sys/resource.h>

namespace avf {

nlohmann::json StepTimes::to_json() const {
  const double t = total();
  return {{"steps", steps},
          {"train_s", t},
          {"step_s", steps ? t / double(steps) : 0.0},
          {"data_wait_s", data_wait},
          {"forward_s", forward},
          {"backward_s", backward},
          {"exposed_comm_s", exposed_comm},
          {"optimizer_s", optimizer},
          {"samples_per_s", t > 0 ? double(samples) / t : 0.0},
          {"peak_rss_mib", peak_rss_mib()}};
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace avf
