// CCC as a differentiable training loss and as exact per-target statistics of tensors.
#pragma once
#include <torch/types.h>

#include <vector>

#include "core/ccc.h"

namespace avf {

// Equation 6 averaged over targets: mean over t of (1 − CCC_t), where CCC_t pools every element of
// prediction[..., t] against label[..., t] (all leading dimensions: batch, sub-sequences, frames).
// NaN labels are masked out; a target with fewer than two labelled elements is left out of the mean
// (the loss is 0 when no target has any). Differentiable with respect to `prediction`.
torch::Tensor ccc_loss(const torch::Tensor& prediction, const torch::Tensor& label);

// The same pairs as ccc_loss, as float64 statistics per target, for exact epoch metrics that can be
// merged across batches and ranks.
std::vector<CccStats> ccc_stats(const torch::Tensor& prediction, const torch::Tensor& label);

}  // namespace avf
