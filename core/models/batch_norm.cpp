#include "core/models/batch_norm.h"

#include <torch/torch.h>

#include <atomic>
#include <stdexcept>

#include "dist/communicator.h"

namespace avf {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The scope's state. The forward pass reads it; the backward pass takes the communicator from the
// autograd context, since backward may run on another thread (CUDA) or after the scope ended.
std::atomic<bool> g_active{false};
std::atomic<dist::Communicator*> g_comm{nullptr};

std::vector<int64_t> all_but_channels(const torch::Tensor& x) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

std::vector<int64_t> channel_shape(const torch::Tensor& x) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = x.size(1);
  return shape;
}

void sum_over_ranks(dist::Communicator* comm, torch::Tensor& t, const char* what) {
  if (comm != nullptr && comm->size() > 1) comm->allreduce(t, dist::ReduceOp::sum, what)->wait();
}

// y = (x − μ) / sqrt(σ² + eps) · γ + β with μ, σ² over the global batch (biased variance, as BatchNorm).
struct GlobalBatchNorm : torch::autograd::Function<GlobalBatchNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, torch::Tensor running_mean, torch::Tensor running_var,
                               double eps, double momentum, int64_t comm_address) {
    auto* comm = reinterpret_cast<dist::Communicator*>(comm_address);
    const auto dims = all_but_channels(x);
    const int64_t C = x.size(1);
    // Sums accumulate in float64: exact enough that the order of ranks does not matter at 1e-7.
    auto stats = torch::cat({x.sum(dims, false, torch::kFloat64), x.square().sum(dims, false, torch::kFloat64),
                             torch::full({1}, double(x.numel() / C), x.options().dtype(torch::kFloat64))});
    sum_over_ranks(comm, stats, "BatchNorm statistics");
    const double n = stats[2 * C].item<double>();
    if (n < 2) throw std::runtime_error("BatchNorm: fewer than 2 values per channel in the global batch");
    auto mean = stats.narrow(0, 0, C) / n;
    auto var = (stats.narrow(0, C, C) / n - mean.square()).clamp_min(0);
    auto invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype()), momentum);
      running_var.mul_(1 - momentum).add_((var * (n / (n - 1))).to(running_var.dtype()), momentum);
    }
    const auto shape = channel_shape(x);
    auto xhat = (x - mean.to(x.dtype()).view(shape)) * invstd.to(x.dtype()).view(shape);
    ctx->save_for_backward({xhat, weight, invstd});
    ctx->saved_data["n"] = n;
    ctx->saved_data["comm"] = comm_address;
    return xhat * weight.view(shape) + bias.view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& xhat = saved[0];
    const auto& weight = saved[1];
    const auto& invstd = saved[2];
    const double n = ctx->saved_data["n"].toDouble();
    auto* comm = reinterpret_cast<dist::Communicator*>(ctx->saved_data["comm"].toInt());
    const auto g = grads[0].contiguous();
    const auto dims = all_but_channels(g);
    const int64_t C = g.size(1);
    // This rank's share of dγ and dβ; the reducer sums the shares over ranks.
    auto sum_g = g.sum(dims, false, torch::kFloat64);
    auto sum_g_xhat = (g * xhat).sum(dims, false, torch::kFloat64);
    auto global = torch::cat({sum_g, sum_g_xhat});
    sum_over_ranks(comm, global, "BatchNorm gradient statistics");
    const auto shape = channel_shape(g);
    auto mean_g = (global.narrow(0, 0, C) / n).to(g.dtype()).view(shape);
    auto mean_g_xhat = (global.narrow(0, C, C) / n).to(g.dtype()).view(shape);
    auto scale = (weight.to(torch::kFloat64) * invstd).to(g.dtype()).view(shape);
    auto grad_x = scale * (g - mean_g - xhat * mean_g_xhat);
    return {grad_x, sum_g_xhat.to(weight.dtype()), sum_g.to(weight.dtype()), {}, {}, {}, {}, {}};
  }
};

}  // namespace

BatchNormImpl::BatchNormImpl(const torch::nn::BatchNormOptions& options_) : options(options_) { reset(); }

void BatchNormImpl::reset() {
  // The same parameters, buffers and initial values as torch::nn::BatchNorm (affine, tracked stats).
  weight = register_parameter("weight", torch::ones({options.num_features()}));
  bias = register_parameter("bias", torch::zeros({options.num_features()}));
  running_mean = register_buffer("running_mean", torch::zeros({options.num_features()}));
  running_var = register_buffer("running_var", torch::ones({options.num_features()}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

torch::Tensor BatchNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == options.num_features(), "BatchNorm: expected [B, ", options.num_features(),
              ", ...], got ", x.sizes());
  const double momentum = options.momentum().value_or(0.1);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
  }
  if (!is_training() || !g_active.load()) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, options.eps(),
                             /*cudnn_enabled=*/true);
  }
  // Mixed precision: statistics and normalisation in float32 (autocast keeps BatchNorm in float32 too).
  const auto input = (x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf) ? x.to(torch::kFloat) : x;
  return GlobalBatchNorm::apply(input, weight, bias, running_mean, running_var, options.eps(), momentum,
                                reinterpret_cast<int64_t>(g_comm.load()));
}

GlobalBatchStatistics::GlobalBatchStatistics(dist::Communicator* comm) {
  if (g_active.exchange(true)) throw std::logic_error("GlobalBatchStatistics scopes cannot be nested");
  g_comm.store(comm);
}

GlobalBatchStatistics::~GlobalBatchStatistics() {
  g_comm.store(nullptr);
  g_active.store(false);
}

}  // namespace avf
