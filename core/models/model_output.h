// What a unimodal network returns: the feature the fusion stage consumes and its own prediction.
#pragma once
#include <torch/types.h>

namespace avf {

struct ModelOutput {
  torch::Tensor feature;     // [B, feature_dim]: one vector per clip / spectrogram window
  torch::Tensor prediction;  // [B, targets]
};

}  // namespace avf
