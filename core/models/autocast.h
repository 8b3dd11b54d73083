// Mixed precision for the forward pass: inside an Autocast scope, LibTorch's autocast runs matrix
// multiplications and convolutions in bfloat16 (on CUDA, or on the CPU) and keeps reductions and
// the loss in float32. Parameters, gradients and the optimizer stay float32. bfloat16 has float32's
// exponent range, so no loss scaling is needed (float16 would need a gradient scaler; not offered).
#pragma once
#include <c10/core/Device.h>

#include <string>

namespace avf {

class Autocast {
 public:
  // `mode`: "off" (the scope does nothing) or "bf16".
  Autocast(const c10::Device& device, const std::string& mode);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
};

}  // namespace avf
