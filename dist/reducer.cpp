#include "dist/reducer.h"

#include <fmt/format.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <map>
#include <stdexcept>

namespace avf::dist {
namespace {

class GradientReadyHook : public torch::autograd::FunctionPostHook {
 public:
  explicit GradientReadyHook(std::function<void()> fn) : fn_(std::move(fn)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    fn_();
    return outputs;
  }

 private:
  std::function<void()> fn_;
};

std::string shape_text(const torch::Tensor& t) {
  return fmt::format("{} {}", std::string(t.dtype().name()), fmt::join(t.sizes().vec(), "x"));
}

// One line per tensor ("name dtype shape"): identical on every rank for identical models.
std::string model_signature(torch::nn::Module& module) {
  std::string sig;
  for (const auto& p : module.named_parameters()) sig += p.key() + " " + shape_text(p.value()) + "\n";
  for (const auto& b : module.named_buffers()) sig += b.key() + " " + shape_text(b.value()) + "\n";
  return sig;
}

torch::Tensor bytes_of(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {int64_t(s.size())}, torch::kByte).clone();
}

std::vector<std::string> lines_of(const torch::Tensor& bytes) {
  std::string text(reinterpret_cast<const char*>(bytes.data_ptr()), bytes.numel());
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(text.substr(at, nl - at));
  return lines;
}

void check_same_model(torch::nn::Module& module, Communicator& comm) {
  const std::string sig = model_signature(module);
  auto all = comm.allgatherv(bytes_of(sig), "model shape check");
  const auto mine = lines_of(all[0]);
  for (int r = 1; r < comm.size(); ++r) {
    const auto theirs = lines_of(all[r]);
    for (size_t i = 0; i < std::max(mine.size(), theirs.size()); ++i) {
      const std::string a = i < mine.size() ? mine[i] : "(nothing)";
      const std::string b = i < theirs.size() ? theirs[i] : "(nothing)";
      if (a != b)
        throw std::runtime_error(fmt::format(
            "the model differs between ranks: tensor #{} is '{}' on rank 0 but '{}' on rank {} (same config "
            "and code on every rank?)",
            i, a, b, r));
    }
  }
}

}  // namespace

void broadcast_tensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root) {
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat_views;
    for (const auto& t : group) flat_views.push_back(t.reshape(-1));
    auto flat = torch::cat(flat_views);
    comm.broadcast(flat, root, "broadcast parameters and buffers")->wait();
    int64_t at = 0;
    for (auto& t : group) {
      t.copy_(flat.narrow(0, at, t.numel()).view(t.sizes()));
      at += t.numel();
    }
  }
}

Reducer::Reducer(torch::nn::Module& module, Communicator& comm, ReducerOptions options)
    : comm_(comm), bucketed_(options.bucketed), op_(options.average ? ReduceOp::avg : ReduceOp::sum) {
  for (const auto& p : module.parameters())
    if (p.requires_grad()) params_.push_back(p);
  buffers_ = module.buffers();
  if (comm_.size() > 1) {
    check_same_model(module, comm_);
    std::vector<torch::Tensor> all = params_;
    all.insert(all.end(), buffers_.begin(), buffers_.end());
    broadcast_tensors(comm_, all, 0);
  }
  if (!bucketed_) return;
  build_buckets(options);
  register_hooks();
}

void Reducer::build_buckets(const ReducerOptions& options) {
  bucket_of_.assign(params_.size(), 0);
  size_t limit = size_t(options.first_bucket_mb * (1 << 20));
  std::vector<std::vector<size_t>> groups(1);
  size_t bytes = 0;
  for (size_t i = params_.size(); i-- > 0;) {
    const auto& p = params_[i];
    const size_t b = p.numel() * p.element_size();
    const bool dtype_changes =
        !groups.back().empty() && params_[groups.back().front()].scalar_type() != p.scalar_type();
    if (!groups.back().empty() && (bytes + b > limit || dtype_changes)) {
      groups.emplace_back();
      bytes = 0;
      limit = size_t(options.bucket_mb * (1 << 20));
    }
    groups.back().push_back(i);
    bytes += b;
  }
  for (const auto& group : groups) {
    if (group.empty()) continue;
    Bucket bucket;
    int64_t n = 0;
    for (size_t i : group) {
      bucket.slots.push_back({i, n});
      bucket_of_[i] = buckets_.size();
      n += params_[i].numel();
    }
    // After the gradients, one "had a gradient" flag per parameter travels in the same collective, so
    // a parameter no rank used keeps an undefined gradient (the optimizer then skips it, as on one rank).
    bucket.flags_offset = n;
    bucket.flat = torch::zeros({n + int64_t(group.size())}, params_[group.front()].options().requires_grad(false));
    bucket.has_grad.assign(group.size(), 0.0f);
    buckets_.push_back(std::move(bucket));
  }
  grad_views_.resize(params_.size());
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_)
    for (const Slot& slot : b.slots) {
      // An alias of the bucket's memory made with set_(), not an autograd view: optimizers may
      // detach_() gradients, which autograd refuses on views.
      auto& p = params_[slot.param];
      grad_views_[slot.param] =
          torch::empty({0}, b.flat.options())
              .set_(b.flat.storage(), b.flat.storage_offset() + slot.offset, p.sizes(), p.contiguous().strides());
    }
  // Gradients that exist already move into their buckets; missing ones stay missing until backward.
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].grad().defined()) {
      grad_views_[i].copy_(params_[i].grad());
      params_[i].mutable_grad() = grad_views_[i];
    }
}

void Reducer::register_hooks() {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[i]);
    acc->add_post_hook(std::make_unique<GradientReadyHook>([this, i] { on_gradient_ready(i); }));
    accumulators_.push_back(std::move(acc));
  }
}

double Reducer::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start_).count();
}

void Reducer::prepare_for_backward() {
  if (!sync_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.assign(params_.size(), false);
  for (auto& b : buckets_) {
    b.pending = b.slots.size();
    b.work.reset();
  }
  next_launch_ = 0;
  armed_ = true;
  step_start_ = std::chrono::steady_clock::now();
  timing_ = StepTiming{};
}

void Reducer::fill_slot(size_t k, Bucket& bucket) {
  const size_t i = bucket.slots[k].param;
  auto& grad = params_[i].mutable_grad();
  const auto& view = grad_views_[i];
  bucket.has_grad[k] = grad.defined() ? 1.0f : 0.0f;
  if (!grad.defined()) {
    view.zero_();
  } else if (grad.data_ptr() != view.data_ptr()) {
    // Autograd allocated this gradient (there was none to accumulate into): move it into the bucket,
    // where the next backward accumulates in place.
    view.copy_(grad);
    grad = view;
  }
}

void Reducer::on_gradient_ready(size_t i) {
  if (!sync_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || ready_[i]) return;
  ready_[i] = true;
  Bucket& bucket = buckets_[bucket_of_[i]];
  for (size_t k = 0; k < bucket.slots.size(); ++k)
    if (bucket.slots[k].param == i) fill_slot(k, bucket);
  --bucket.pending;
  launch_ready_buckets();
}

void Reducer::launch_ready_buckets() {
  // Strictly in bucket order, so every rank issues the same collectives in the same sequence.
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_];
    const auto flags = torch::from_blob(b.has_grad.data(), {int64_t(b.has_grad.size())}, torch::kFloat);
    b.flat.narrow(0, b.flags_offset, int64_t(b.has_grad.size())).copy_(flags);
    b.work = comm_.allreduce(b.flat, op_, fmt::format("gradient bucket {}", next_launch_));
    timing_.buckets.push_back({size_t(b.flat.numel() * b.flat.element_size()), now_s()});
    ++next_launch_;
  }
}

void Reducer::reduce_each_parameter() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& grad = params_[i].mutable_grad();
    if (!grad.defined()) grad = torch::zeros_like(params_[i]);
    comm_.allreduce(grad, op_, fmt::format("gradient of parameter {}", i))->wait();
  }
}

void Reducer::finalize() {
  if (!sync_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_) throw std::logic_error("Reducer::finalize() without prepare_for_backward()");
  timing_.backward_end_s = now_s();
  if (!bucketed_) {
    reduce_each_parameter();
    timing_.exposed_comm_s = now_s() - timing_.backward_end_s;
    armed_ = false;
    return;
  }
  // Parameters that received no gradient this step (unused branches) contribute zeros.
  for (auto& b : buckets_) {
    for (size_t k = 0; k < b.slots.size(); ++k) {
      if (ready_[b.slots[k].param]) continue;
      ready_[b.slots[k].param] = true;
      fill_slot(k, b);
      --b.pending;
    }
  }
  launch_ready_buckets();
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    b.work->wait();
    // The averages are in place already; only the flags decide which gradients exist. One read of
    // the flags per bucket (a device-to-host copy on GPUs).
    const auto any =
        b.flat.narrow(0, b.flags_offset, int64_t(b.slots.size())).to(torch::kCPU, torch::kFloat).contiguous();
    const float* flag = any.data_ptr<float>();
    for (size_t k = 0; k < b.slots.size(); ++k) {
      const size_t i = b.slots[k].param;
      // No rank had a gradient: leave none, so the optimizer skips the parameter as on one rank.
      auto& grad = params_[i].mutable_grad();
      if (flag[k] == 0) {
        grad = torch::Tensor();
      } else if (!grad.defined() || grad.data_ptr() != grad_views_[i].data_ptr()) {
        grad = grad_views_[i];
      }
    }
  }
  timing_.exposed_comm_s = now_s() - timing_.backward_end_s;
  armed_ = false;
}

void Reducer::sync_buffers() {
  if (comm_.size() > 1 && !buffers_.empty()) broadcast_tensors(comm_, buffers_, 0);
}

}  // namespace avf::dist
