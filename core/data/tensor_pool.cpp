#include "core/data/tensor_pool.h"

#include <torch/torch.h>

namespace avf {

torch::Tensor TensorPool::take(at::IntArrayRef sizes, torch::ScalarType dtype) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& t : kept_) {
    // Only the pool's handle refers to the tensor and only the tensor to its storage: free to reuse.
    if (t.use_count() == 1 && t.storage().use_count() == 1 && t.scalar_type() == dtype && t.sizes() == sizes) return t;
  }
  auto t = torch::empty(sizes, torch::TensorOptions(dtype));
  if (kept_.size() < capacity_) {
    kept_.push_back(t);
  } else {
    // Full: drop one nobody uses (a batch of another shape) to keep this one, else leave it unkept.
    for (auto& k : kept_)
      if (k.use_count() == 1 && k.storage().use_count() == 1) {
        k = t;
        break;
      }
  }
  return t;
}

}  // namespace avf
