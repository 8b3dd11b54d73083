// The unimodal networks as the configuration describes them (model.* keys), ready to train.
#pragma once
#include "core/base/config.h"
#include "core/models/audio_net.h"
#include "core/models/i3d.h"

namespace avf {

// I3D at model.width with model.visual-dropout; when model.inflate-from names a file, its 2D
// Inception-v1 weights are inflated into the trunk (see inflate.h); when model.visual-weights does,
// its 3D weights are loaded (see i3d_weights.h). Both set is an error.
I3D make_i3d(const ModelConfig& model, int64_t n_targets);
// The Table I network with model.audio-width-div and model.audio-dropout.
AudioNet make_audio_net(const ModelConfig& model, int64_t n_targets);

}  // namespace avf
