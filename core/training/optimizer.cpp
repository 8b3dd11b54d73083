#include "core/training/optimizer.h"

#include <stdexcept>

namespace avf {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t, std::vector<torch::Tensor> parameters) {
  using namespace torch::optim;
  if (t.optimizer == "sgd")
    return std::make_unique<SGD>(parameters, SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weight_decay));
  if (t.optimizer == "adam")
    return std::make_unique<Adam>(parameters, AdamOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
  if (t.optimizer == "adamw")
    return std::make_unique<AdamW>(parameters,
                                   AdamWOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
  throw std::invalid_argument("train.optimizer: unknown optimizer '" + t.optimizer + "' (sgd, adam or adamw)");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace avf
