#include "core/models/i3d_weights.h"

#include <torch/torch.h>

#include <stdexcept>

#include "core/models/inflate.h"
#include "core/models/weights_hdf5.h"

namespace avf {

namespace {
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

I3DWeightsLoaded load_i3d_weights(I3DImpl& model, const std::string& path, KernelLayout layout) {
  auto weights = read_tensors_hdf5(path);
  auto state = model.named_parameters();
  for (const auto& b : model.named_buffers()) state.insert(b.key(), b.value());
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  for (const auto& [name, source] : weights)
    if (!state.contains(name)) fail("dataset " + name + " is not a parameter or buffer of I3D");

  I3DWeightsLoaded loaded;
  // A pretrained classifier for other classes is dropped as a whole (weight and bias together).
  auto file_logits = weights.find("logits.weight");
  bool skip_logits = false;
  if (file_logits != weights.end() && file_logits->second.dim() >= 1 &&
      file_logits->second.size(0) != model.logits->weight.size(0)) {
    skip_logits = true;
    loaded.logits_note = "the file's logits layer has " + std::to_string(file_logits->second.size(0)) +
                         " outputs and the model " + std::to_string(model.logits->weight.size(0)) +
                         ": the model's output layer keeps its initialisation";
  }

  torch::NoGradGuard no_grad;
  for (const auto& item : state) {
    const auto& name = item.key();
    auto& target = item.value();
    const bool is_logits = starts_with(name, "logits.");
    auto found = weights.find(name);
    if (found == weights.end()) {
      bool optional = is_logits || name.find("num_batches_tracked") != std::string::npos;
      if (!optional) fail("missing dataset " + name);
      continue;
    }
    if (is_logits && skip_logits) continue;
    auto value = found->second;
    if (layout == KernelLayout::inflate_2d && target.dim() == 5 && value.dim() == 4)
      value = inflate_kernel(value, target.size(2));
    if (value.sizes() != target.sizes()) {
      std::string hint;
      if (layout == KernelLayout::same_as_model && target.dim() == 5 && value.dim() == 4)
        hint = " (a 2D kernel: 2D weights go through model.inflate-from)";
      fail("dataset " + name + " has shape " + c10::str(found->second.sizes()) + ", which does not fit " +
           c10::str(target.sizes()) + hint);
    }
    target.copy_(value);
    ++loaded.tensors;
    if (is_logits) loaded.logits = true;
  }
  return loaded;
}

}  // namespace avf
