// The optimizer of train.optimizer over a module's parameters, and the learning rate set on all of
// its parameter groups (what the schedule changes before each step).
#pragma once
#include <torch/torch.h>

#include <memory>

#include "core/base/config.h"

namespace avf {

//   sgd    SGD with train.momentum and L2 weight decay (the paper)
//   adam   Adam with train.beta1/beta2 and L2 weight decay (the authors' code)
//   adamw  AdamW: decoupled weight decay
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& train,
                                                        std::vector<torch::Tensor> parameters);

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace avf
