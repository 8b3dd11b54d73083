// A stage model rebuilt from its checkpoint: checkpoints carry the effective configuration they were
// trained with, so extraction, evaluation and prediction need only the checkpoint path.
#pragma once
#include <memory>
#include <string>

#include "core/base/config.h"
#include "core/models/stage_model.h"

namespace avf {

struct TrainedModel {
  std::string path;
  Config config;  // as trained (model.*, data.* geometry, targets)
  std::unique_ptr<StageModel> model;
};

// Verifies the checkpoint's weights (optimizer.pt and state.cbor are not needed, and may be absent),
// rebuilds its stage's model and loads the weights; eval mode, on `device`.
TrainedModel load_trained_model(const std::string& checkpoint, torch::Device device);
// The stored configuration alone (e.g. to learn a fusion checkpoint's feature sizes first).
Config checkpoint_config(const std::string& checkpoint);

}  // namespace avf
