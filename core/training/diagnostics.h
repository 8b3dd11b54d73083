// What a head does while it trains (log.diagnostics; issue 13's study of the fusion heads, inside avf
// instead of a replay): the gradient norm of each module per epoch, and how peaked each attention map
// is on the validation sequences. Written to metrics.jsonl by the trainer.
#pragma once
#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/data/stage_data.h"
#include "core/models/stage_model.h"

namespace avf {

// The module a parameter belongs to, at most two levels deep ("stage0.W" -> "stage0",
// "head.fc1.weight" -> "head.fc1", "Mixed_3b.b1a.conv3d.weight" -> "Mixed_3b.b1a"), so I3D gives a few
// dozen groups and a fusion head one per stage, gate or layer.
std::string parameter_group(const std::string& name);

// L2 norms of the gradients per group, accumulated over an epoch's optimizer steps (after the
// all-reduce: the same on every rank) and reported as their mean per step.
class GradientNorms {
 public:
  void add(const torch::nn::Module& module);  // once per optimizer step, before it
  nlohmann::json mean_and_reset();            // {group: mean norm}; empty when nothing was added

 private:
  std::map<std::string, double> sums_;
  int64_t steps_ = 0;
};

// Mean entropy of a map's distributions divided by log of their length: 1 = uniform, 0 = one-hot. The
// map [B, R, C] is read as distributions over its columns when every column sums to 1, else over its
// rows when every row does; a map that is neither (a ReLU-activated joint map) gives NaN.
double normalised_entropy(const torch::Tensor& map);

// normalised_entropy of each of the model's attention maps by name, averaged over `sequences` in
// batches (eval mode, no gradients); empty for a model without attention.
nlohmann::json attention_entropy(StageModel& model, const StageData& data, const std::vector<SequenceRef>& sequences,
                                 int64_t batch_size, const torch::Device& device);

}  // namespace avf
