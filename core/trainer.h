// Entry point of `avf train`: runs one stage with the given effective configuration.
#pragma once
#include "core/config.h"

namespace avf {
int run_training(const Config& config);  // returns the process exit code
}  // namespace avf
