#include "core/training/diagnostics.h"

#include <cmath>

namespace avf {

std::string parameter_group(const std::string& name) {
  const auto last = name.rfind('.');
  if (last == std::string::npos) return name;  // a parameter of the top module itself
  const std::string module = name.substr(0, last);
  const auto first = module.find('.');
  if (first == std::string::npos) return module;
  const auto second = module.find('.', first + 1);
  return second == std::string::npos ? module : module.substr(0, second);
}

void GradientNorms::add(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::map<std::string, double> squares;
  for (const auto& p : module.named_parameters()) {
    const auto& g = p.value().grad();
    if (!g.defined()) continue;
    squares[parameter_group(p.key())] += g.to(torch::kDouble).pow(2).sum().item<double>();
  }
  for (const auto& [group, s] : squares) sums_[group] += std::sqrt(s);
  ++steps_;
}

nlohmann::json GradientNorms::mean_and_reset() {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [group, sum] : sums_) out[group] = sum / double(steps_);
  sums_.clear();
  steps_ = 0;
  return out;
}

double normalised_entropy(const torch::Tensor& map) {
  torch::NoGradGuard no_grad;
  const auto m = map.to(torch::kDouble);
  if (m.dim() != 3 || (m < 0).any().item<bool>()) return NAN;
  // dim 1 sums a column, dim 2 a row.
  for (int64_t dim : {1, 2}) {
    if (m.size(dim) < 2) continue;
    if (!torch::allclose(m.sum(dim), torch::ones({1}, m.options()), 1e-4, 1e-4)) continue;
    const auto h = -(m * (m + 1e-12).log()).sum(dim);
    return h.mean().item<double>() / std::log(double(m.size(dim)));
  }
  return NAN;
}

nlohmann::json attention_entropy(StageModel& model, const StageData& data, const std::vector<SequenceRef>& sequences,
                                 int64_t batch_size, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.module().is_training();
  model.module().eval();
  std::map<std::string, std::pair<double, int64_t>> sums;  // name -> (entropy x sequences, sequences)
  for (size_t first = 0; first < sequences.size(); first += size_t(batch_size)) {
    const std::vector<SequenceRef> refs(sequences.begin() + first,
                                        sequences.begin() + std::min(sequences.size(), first + size_t(batch_size)));
    Batch b = data.make_batch(refs, 0, false);
    b.audio = b.audio.to(device), b.visual = b.visual.to(device);  // the fusion stage's features
    const auto maps = model.attention(b);
    if (maps.empty()) break;
    for (const auto& [name, map] : maps) {
      auto& [sum, n] = sums[name];
      sum += normalised_entropy(map) * double(refs.size());
      n += int64_t(refs.size());
    }
  }
  model.module().train(was_training);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, s] : sums) {
    const double v = s.first / double(s.second);
    out[name] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
  }
  return out;
}

}  // namespace avf
