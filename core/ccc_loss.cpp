#include "core/ccc_loss.h"

#include <torch/torch.h>

namespace avf {

namespace {
void check_shapes(const torch::Tensor& prediction, const torch::Tensor& label) {
  TORCH_CHECK(prediction.dim() >= 1 && prediction.sizes() == label.sizes(),
              "CCC: prediction ", prediction.sizes(), " and label ", label.sizes(),
              " must have the same shape [..., targets]");
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

std::vector<CccStats> ccc_stats(const torch::Tensor& prediction, const torch::Tensor& label) {
  check_shapes(prediction, label);
  int64_t targets = prediction.size(-1);
  auto to_rows = [&](const torch::Tensor& t) {
    return t.detach().to(torch::kCPU, torch::kFloat64).reshape({-1, targets}).t().contiguous();
  };
  auto x = to_rows(prediction), y = to_rows(label);
  std::vector<CccStats> stats(targets);
  for (int64_t t = 0; t < targets; ++t)
    stats[t].add(x[t].data_ptr<double>(), y[t].data_ptr<double>(), x.size(1));
  return stats;
}

}  // namespace avf
