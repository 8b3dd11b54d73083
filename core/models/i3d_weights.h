// Starting I3D from saved weights: 3D weights named as avf names them (e.g. pytorch-i3d's
// rgb_imagenet.pt after tools/convert-weights), or 2D Inception-v1 weights inflated (inflate.h).
#pragma once
#include <string>

#include "core/models/i3d.h"

namespace avf {

struct I3DWeightsLoaded {
  int tensors = 0;          // parameters and buffers copied into the model
  bool logits = false;      // whether the output layer came from the file
  std::string logits_note;  // why not, when the file had one (another number of classes)
};

enum class KernelLayout {
  same_as_model,  // 3D kernels [out, in, t, h, w], copied as they are
  inflate_2d,     // 2D kernels [out, in, h, w], repeated over time and divided by the depth
};

// Loads an HDF5 file with one dataset per parameter or BatchNorm buffer, named by the I3D module
// path ("Conv3d_1a_7x7.conv.weight", "Mixed_3b.b1b.bn.running_var", "logits.weight", ...). Every
// trunk tensor must be present; num_batches_tracked and the logits layer may be absent. A logits
// layer with another number of outputs than the model (400 Kinetics or 1000 ImageNet classes
// against 2 targets) is left at its initialisation, as fine-tuning replaces it, and said so in
// `logits_note`. A dataset that names nothing in the model or whose shape does not fit is an error
// naming the file and the dataset.
I3DWeightsLoaded load_i3d_weights(I3DImpl& model, const std::string& path, KernelLayout layout);

}  // namespace avf
