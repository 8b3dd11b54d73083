#include "core/training/trained_model.h"

#include <fmt/format.h>

#include "core/training/checkpoint_store.h"
#include "core/training/checkpoint_torch.h"

namespace avf {

// Inference needs the weights and the stored configuration, not the optimizer or trainer state.
constexpr auto kInference = CheckpointParts::weights;

Config checkpoint_config(const std::string& checkpoint) {
  const auto meta = load_checkpoint(checkpoint, kInference).metadata;
  Config c;
  apply_config_text(c, meta.value("config", ""), checkpoint + "/metadata.json:config");
  return c;
}

TrainedModel load_trained_model(const std::string& checkpoint, torch::Device device) {
  const auto ck = load_checkpoint(checkpoint, kInference);
  TrainedModel t;
  t.path = checkpoint;
  apply_config_text(t.config, ck.metadata.value("config", ""), checkpoint + "/metadata.json:config");
  // The checkpoint's weights replace any starting weights, so their files are not read again (they
  // may no longer exist where training found them).
  Config build = t.config;
  build.model.inflate_from.clear();
  build.model.visual_weights.clear();
  t.model = make_stage_model(build, int64_t(t.config.data.targets.size()));
  load_module(t.model->module(), ck.payload.model, checkpoint);
  t.model->module().to(device);
  t.model->module().eval();
  return t;
}

}  // namespace avf
