#include "core/models/inflate.h"

#include <torch/torch.h>

#include <stdexcept>

#include "core/models/i3d_weights.h"
#include "core/models/weights_hdf5.h"

namespace avf {

torch::Tensor inflate_kernel(const torch::Tensor& kernel2d, int64_t depth) {
  TORCH_CHECK(kernel2d.dim() == 4 && depth >= 1, "inflate_kernel: expected a [out, in, kh, kw] kernel");
  return kernel2d.unsqueeze(2).repeat({1, 1, depth, 1, 1}) / static_cast<double>(depth);
}

int inflate_i3d_from_hdf5(I3DImpl& model, const std::string& path) {
  return load_i3d_weights(model, path, KernelLayout::inflate_2d).tensors;
}

}  // namespace avf
