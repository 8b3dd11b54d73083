// The network one stage trains, behind one interface so the loop, evaluation and extraction do not
// care which: visual = I3D on each sub-sequence's clip, audio = the Table I network on each
// sub-sequence's spectrogram window, fusion = a fusion head on the extracted features.
#pragma once
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/data/stage_data.h"

namespace avf {

class StageModel {
 public:
  virtual ~StageModel() = default;
  virtual torch::nn::Module& module() = 0;
  // Per-sub-sequence predictions [B, L, T].
  virtual torch::Tensor forward(const Batch& batch) = 0;
  // Per-sub-sequence features [B, L, K] (visual and audio stages; what `avf extract` stores).
  virtual torch::Tensor features(const Batch& batch) = 0;
  // The network alone, for forward-only benchmarks (core/cmd_bench_stream.cpp): its input for a batch
  // as features() feeds it ([B * L, ...] float on its device) and the features of such an input
  // ([B * L, K]). Visual and audio stages.
  virtual torch::Tensor network_input(const Batch& batch) = 0;
  virtual torch::Tensor network_features(const torch::Tensor& input) = 0;
  // Cross-attention maps [B, L, L] by name (fusion stage with attention; empty otherwise).
  virtual std::vector<std::pair<std::string, torch::Tensor>> attention(const Batch&) { return {}; }
};

// `fusion_dims` = {audio K, visual K} of the extracted features (fusion stage only; {0, 0} means
// model.feature-dim, which the trainer records in the fusion checkpoint's configuration).
std::unique_ptr<StageModel> make_stage_model(const Config& config, int64_t n_targets,
                                             std::pair<int64_t, int64_t> fusion_dims = {0, 0});

}  // namespace avf
