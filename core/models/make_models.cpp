#include "core/models/make_models.h"

#include "core/models/inflate.h"

namespace avf {

I3D make_i3d(const ModelConfig& model, int64_t n_targets) {
  I3D net(n_targets, model.width, model.visual_dropout);
  if (!model.inflate_from.empty()) inflate_i3d_from_hdf5(*net, model.inflate_from);
  return net;
}

AudioNet make_audio_net(const ModelConfig& model, int64_t n_targets) {
  return AudioNet(n_targets, model.audio_width_div, model.audio_dropout);
}

}  // namespace avf
