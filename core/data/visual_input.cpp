#include "core/data/visual_input.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace avf {
namespace {

constexpr float kScale = 1.0f / 127.5f;  // [0, 255] -> [-1, 1]

torch::Tensor convert_on_cpu(const torch::Tensor& faces, const torch::Tensor& blank) {
  const int64_t B = faces.size(0), L = faces.size(1), S = faces.size(2), H = faces.size(3), W = faces.size(4);
  const auto in = faces.contiguous();
  auto out = torch::empty({B, L, 3, S, H, W});
  const uint8_t* src = in.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  const auto flags = blank.defined() ? blank.contiguous() : torch::Tensor();
  const bool* blanked = flags.defined() ? flags.data_ptr<bool>() : nullptr;
  const int64_t pixels = H * W;
  // One task per frame of a clip: read its pixels once, write three channel planes.
  at::parallel_for(0, B * L * S, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t clip = i / S, s = i % S;
      const uint8_t* from = src + i * pixels * 3;
      float* planes[3];
      for (int c = 0; c < 3; ++c) planes[c] = dst + ((clip * 3 + c) * S + s) * pixels;
      if (blanked && blanked[i]) {
        for (int c = 0; c < 3; ++c) std::fill_n(planes[c], pixels, 0.0f);
        continue;
      }
      for (int64_t p = 0; p < pixels; ++p)
        for (int c = 0; c < 3; ++c) planes[c][p] = float(from[p * 3 + c]) * kScale - 1.0f;
    }
  });
  return out;
}

}  // namespace

torch::Tensor visual_clips(const torch::Tensor& faces, const torch::Tensor& blank, const torch::Device& device) {
  TORCH_CHECK(faces.dim() == 6 && faces.size(5) == 3, "visual_clips: expected uint8 [B, L, S, H, W, 3], got ",
              faces.sizes());
  if (faces.scalar_type() != torch::kUInt8)
    TORCH_CHECK(false, "visual_clips: expected uint8 faces, got ", faces.dtype());
  if (device.is_cpu()) return convert_on_cpu(faces.cpu(), blank.defined() ? blank.cpu() : blank);
  const int64_t B = faces.size(0), L = faces.size(1), S = faces.size(2);
  auto bytes = faces.to(device, /*non_blocking=*/faces.is_pinned());
  auto out = torch::empty({B, L, 3, S, faces.size(3), faces.size(4)}, bytes.options().dtype(torch::kFloat));
  out.copy_(bytes.permute({0, 1, 5, 2, 3, 4}));
  out.mul_(kScale).sub_(1.0);
  if (blank.defined()) out.masked_fill_(blank.to(device).view({B, L, 1, S, 1, 1}), 0.0);
  return out;
}

}  // namespace avf
