// CCC as a differentiable training loss and as exact per-target statistics of tensors.
#pragma once
#include <torch/types.h>

#include <vector>

#include "core/evaluation/ccc.h"

namespace avf::dist {
class Communicator;
}

namespace avf {

// Equation 6 averaged over targets: mean over t of (1 − CCC_t), where CCC_t pools every element of
// prediction[..., t] against label[..., t] (all leading dimensions: batch, sub-sequences, frames).
// NaN labels are masked out; a target with fewer than two labelled elements is left out of the mean
// (the loss is 0 when no target has any). Differentiable with respect to `prediction`.
torch::Tensor ccc_loss(const torch::Tensor& prediction, const torch::Tensor& label);

// The CCC loss of the global batch when the batch is split over ranks. CCC does not decompose over
// samples, so averaging each rank's own 1 − CCC is not the loss of the whole batch. Instead every
// rank computes the sufficient statistics of its part (per target: count, Σx, Σy, Σx², Σy², Σxy in
// float64), they are summed over `comm` (one small all-reduce in the forward pass), and the loss
// follows from the sums. Its value is the same on every rank: the loss of the global batch. Its
// gradient on a rank is that loss's gradient with respect to the rank's own predictions (the other
// ranks' statistics enter as constants), so *summing* parameter gradients over ranks gives exactly
// the gradient of one process holding the whole batch. `comm` may be null or of size 1 (then it is
// the loss of the local batch, computed the same way).
torch::Tensor global_ccc_loss(const torch::Tensor& prediction, const torch::Tensor& label, dist::Communicator* comm);

// The sufficient statistics behind global_ccc_loss: [6, T] float64, rows n, Σx, Σy, Σx², Σy², Σxy
// over the labelled pairs of each target; differentiable with respect to `prediction`.
torch::Tensor ccc_sums(const torch::Tensor& prediction, const torch::Tensor& label);
// mean over targets with n >= 2 of (1 − CCC) from such sums (0 when no target has two pairs).
torch::Tensor ccc_loss_from_sums(const torch::Tensor& sums);

// The same pairs as ccc_loss, as float64 statistics per target, for exact epoch metrics that can be
// merged across batches and ranks.
std::vector<CccStats> ccc_stats(const torch::Tensor& prediction, const torch::Tensor& label);

}  // namespace avf
