#include "core/models/make_models.h"

#include <stdexcept>

#include "core/base/log.h"
#include "core/models/i3d_weights.h"

namespace avf {

I3D make_i3d(const ModelConfig& model, int64_t n_targets) {
  I3D net(n_targets, model.width, model.visual_dropout);
  if (!model.inflate_from.empty() && !model.visual_weights.empty())
    throw std::invalid_argument("model.inflate-from (" + model.inflate_from + ") and model.visual-weights (" +
                                model.visual_weights + ") are both set; expected at most one starting point for I3D");
  const bool inflate = !model.inflate_from.empty();
  const std::string& path = inflate ? model.inflate_from : model.visual_weights;
  if (path.empty()) return net;
  auto loaded = load_i3d_weights(*net, path, inflate ? KernelLayout::inflate_2d : KernelLayout::same_as_model);
  log::info("I3D starts from {} ({} tensors{}{})", path, loaded.tensors, inflate ? ", 2D kernels inflated" : "",
            loaded.logits ? ", logits included" : "");
  if (!loaded.logits_note.empty()) log::info("{}: {}", path, loaded.logits_note);
  return net;
}

AudioNet make_audio_net(const ModelConfig& model, int64_t n_targets) {
  return AudioNet(n_targets, model.audio_width_div, model.audio_dropout);
}

}  // namespace avf
