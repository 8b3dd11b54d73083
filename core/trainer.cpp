#include "core/trainer.h"

#include <stdexcept>

namespace avf {

int run_training(const Config& config) {
  // The training loop arrives with the models/training issue (#4); until then say so plainly.
  throw std::runtime_error("training of stage '" + config.train.stage +
                           "' is not available in this build yet (issue #4); --print-config works");
}

}  // namespace avf
