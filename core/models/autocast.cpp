#include "core/models/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace avf {
namespace {
// LibTorch 2.4 replaced the per-device functions (is_enabled, set_autocast_gpu_dtype, ...) by ones
// that take the device type; the old ones are deprecated there and may be gone later.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void enable(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
void use_bf16(bool cuda) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, at::kBFloat16); }
#else
bool enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void enable(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
void use_bf16(bool cuda) {
  cuda ? at::autocast::set_autocast_gpu_dtype(at::kBFloat16) : at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
}
#endif
}  // namespace

Autocast::Autocast(const c10::Device& device, const std::string& mode) {
  if (mode != "bf16") return;
  active_ = true;
  cuda_ = device.is_cuda();
  was_enabled_ = enabled(cuda_);
  use_bf16(cuda_);
  enable(cuda_, true);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!active_) return;
  // Leaving the outermost scope drops the casted copies of the weights autocast cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  enable(cuda_, was_enabled_);
}

}  // namespace avf
