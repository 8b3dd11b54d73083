#include "core/training/ccc_loss.h"

#include <torch/torch.h>

#include "dist/communicator.h"

namespace avf {

namespace {
void check_shapes(const torch::Tensor& prediction, const torch::Tensor& label) {
  TORCH_CHECK(prediction.dim() >= 1 && prediction.sizes() == label.sizes(), "CCC: prediction ", prediction.sizes(),
              " and label ", label.sizes(), " must have the same shape [..., targets]");
}
}  // namespace

torch::Tensor ccc_loss(const torch::Tensor& prediction, const torch::Tensor& label) {
  check_shapes(prediction, label);
  int64_t targets = prediction.size(-1);
  auto x = prediction.reshape({-1, targets});
  auto y = label.to(x.dtype()).reshape({-1, targets});
  auto labelled = ~torch::isnan(y);
  auto m = labelled.to(x.dtype());
  // NaN * 0 is NaN, so missing labels are replaced before any arithmetic touches them.
  y = torch::where(labelled, y, torch::zeros_like(y));
  auto n = m.sum(0);
  auto n_safe = n.clamp_min(1);
  auto mean_x = (x * m).sum(0) / n_safe;
  auto mean_y = y.sum(0) / n_safe;
  // Centred before squaring (two-pass), so the moments do not cancel when means are large.
  auto dx = (x - mean_x) * m;
  auto dy = (y - mean_y) * m;
  auto var_x = dx.square().sum(0) / n_safe;
  auto var_y = dy.square().sum(0) / n_safe;
  auto cov = (dx * dy).sum(0) / n_safe;
  // The denominator is zero only when both series are constant and equal; the floor keeps the
  // gradient finite there instead of NaN.
  auto den = (var_x + var_y + (mean_x - mean_y).square()).clamp_min(1e-12);
  auto ccc = 2 * cov / den;
  auto used = (n >= 2).to(x.dtype());
  return ((1 - ccc) * used).sum() / used.sum().clamp_min(1);
}

torch::Tensor ccc_sums(const torch::Tensor& prediction, const torch::Tensor& label) {
  check_shapes(prediction, label);
  const int64_t targets = prediction.size(-1);
  auto x = prediction.reshape({-1, targets}).to(torch::kFloat64);
  auto y = label.reshape({-1, targets}).to(x.options());
  auto labelled = ~torch::isnan(y);
  auto m = labelled.to(x.dtype());
  // NaN * 0 is NaN, so missing labels are replaced before any arithmetic touches them.
  y = torch::where(labelled, y, torch::zeros_like(y));
  x = x * m;
  return torch::stack({m.sum(0), x.sum(0), y.sum(0), x.square().sum(0), y.square().sum(0), (x * y).sum(0)});
}

torch::Tensor ccc_loss_from_sums(const torch::Tensor& sums) {
  auto n = sums[0];
  auto n_safe = n.clamp_min(1);
  auto mean_x = sums[1] / n_safe, mean_y = sums[2] / n_safe;
  // Raw moments in float64: predictions and labels are O(1), so the subtraction keeps ~15 digits.
  auto var_x = sums[3] / n_safe - mean_x.square();
  auto var_y = sums[4] / n_safe - mean_y.square();
  auto cov = sums[5] / n_safe - mean_x * mean_y;
  auto den = (var_x + var_y + (mean_x - mean_y).square()).clamp_min(1e-12);
  auto used = (n >= 2).to(sums.dtype());
  return ((1 - 2 * cov / den) * used).sum() / used.sum().clamp_min(1);
}

torch::Tensor global_ccc_loss(const torch::Tensor& prediction, const torch::Tensor& label, dist::Communicator* comm) {
  auto local = ccc_sums(prediction, label);
  if (comm == nullptr || comm->size() == 1) return ccc_loss_from_sums(local).to(prediction.scalar_type());
  auto global = local.detach().clone();
  comm->allreduce(global, dist::ReduceOp::sum, "CCC loss statistics")->wait();
  // Value: the global sums; gradient: through this rank's own part only.
  auto sums = local + (global - local.detach());
  return ccc_loss_from_sums(sums).to(prediction.scalar_type());
}

std::vector<CccStats> ccc_stats(const torch::Tensor& prediction, const torch::Tensor& label) {
  check_shapes(prediction, label);
  int64_t targets = prediction.size(-1);
  auto to_rows = [&](const torch::Tensor& t) {
    return t.detach().to(torch::kCPU, torch::kFloat64).reshape({-1, targets}).t().contiguous();
  };
  auto x = to_rows(prediction), y = to_rows(label);
  std::vector<CccStats> stats(targets);
  for (int64_t t = 0; t < targets; ++t) stats[t].add(x[t].data_ptr<double>(), y[t].data_ptr<double>(), x.size(1));
  return stats;
}

}  // namespace avf
