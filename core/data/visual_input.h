// Face clips as the loader hands them out, uint8 [B, L, S, crop, crop, 3] RGB, become the visual
// network's input, float [B, L, 3, S, crop, crop] in [-1, 1], once and where the network runs: on a
// GPU, one copy of the bytes to the device (asynchronous from pinned memory, 4x fewer bytes than
// floats) and the conversion there; on the CPU, one fused pass (layout, scale and blanking together).
#pragma once
#include <torch/types.h>

namespace avf {

// `blank` [B, L, S] bool (or undefined): frames to set to 0 (mid grey), for data.face-policy mask.
torch::Tensor visual_clips(const torch::Tensor& faces, const torch::Tensor& blank, const torch::Device& device);

}  // namespace avf
