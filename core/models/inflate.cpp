#include "core/models/inflate.h"

#include <torch/torch.h>

#include <stdexcept>

#include "core/models/weights_hdf5.h"

namespace avf {

torch::Tensor inflate_kernel(const torch::Tensor& kernel2d, int64_t depth) {
  TORCH_CHECK(kernel2d.dim() == 4 && depth >= 1, "inflate_kernel: expected a [out, in, kh, kw] kernel");
  return kernel2d.unsqueeze(2).repeat({1, 1, depth, 1, 1}) / static_cast<double>(depth);
}

int inflate_i3d_from_hdf5(I3DImpl& model, const std::string& path) {
  auto weights = read_tensors_hdf5(path);
  auto state = model.named_parameters();
  for (const auto& b : model.named_buffers()) state.insert(b.key(), b.value());
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  for (const auto& [name, source] : weights)
    if (!state.contains(name)) fail("dataset " + name + " is not a parameter or buffer of I3D");
  torch::NoGradGuard no_grad;
  int loaded = 0;
  for (const auto& item : state) {
    const auto& name = item.key();
    auto& target = item.value();
    auto found = weights.find(name);
    if (found == weights.end()) {
      bool optional = name.rfind("logits.", 0) == 0 || name.find("num_batches_tracked") != std::string::npos;
      if (!optional) fail("missing dataset " + name);
      continue;
    }
    auto value = found->second;
    if (target.dim() == 5 && value.dim() == 4) value = inflate_kernel(value, target.size(2));
    if (value.sizes() != target.sizes())
      fail("dataset " + name + " has shape " + c10::str(found->second.sizes()) + ", which does not fit " +
           c10::str(target.sizes()));
    target.copy_(value);
    ++loaded;
  }
  return loaded;
}

}  // namespace avf
