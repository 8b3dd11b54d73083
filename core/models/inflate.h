// Inflating 2D Inception-v1 weights (e.g. ImageNet-trained) into I3D, as Carreira & Zisserman do.
#pragma once
#include <torch/types.h>

#include <string>

#include "core/models/i3d.h"

namespace avf {

// A 2D kernel [out, in, kh, kw] as a 3D kernel [out, in, depth, kh, kw]: repeated over time and
// divided by depth, so on a clip that is constant over time the 3D convolution equals the 2D one.
torch::Tensor inflate_kernel(const torch::Tensor& kernel2d, int64_t depth);

// Loads 2D weights from an HDF5 file with one dataset per 2D parameter or BatchNorm buffer, named by
// the I3D module path ("Conv3d_1a_7x7.conv.weight" holding [64, 3, 7, 7], "Conv3d_1a_7x7.bn.running_var"
// …). Convolution kernels are inflated, everything else is copied. Every trunk tensor must be present
// (the logits layer and num_batches_tracked may be absent; a logits layer for another number of
// classes is skipped); a dataset that names nothing in the model, or whose shape does not fit, is an
// error. Returns the number of tensors loaded. (load_i3d_weights in i3d_weights.h does the work.)
int inflate_i3d_from_hdf5(I3DImpl& model, const std::string& path);

}  // namespace avf
