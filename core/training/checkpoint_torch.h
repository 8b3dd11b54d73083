// Torch state to and from the bytes a CheckpointPayload holds. The header is torch-free (forward
// declarations), so including it costs nothing; only checkpoint_torch.cpp includes torch.
#pragma once
#include <string>

namespace torch {
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace torch

namespace avf {

// Parameters and buffers, as torch::serialize::OutputArchive bytes.
std::string serialize_module(const torch::nn::Module& module);
// `source` names where the bytes came from (the checkpoint file) in the CheckpointError thrown when
// they do not fit the module (a missing parameter, another shape); the module is then unusable.
void load_module(torch::nn::Module& module, const std::string& bytes, const std::string& source);

// Per-parameter state (e.g. SGD momentum buffers) and the parameter groups' options (learning rate,
// momentum, ...); load_optimizer restores both, which LibTorch 1.13's Optimizer::load alone does not.
std::string serialize_optimizer(const torch::optim::Optimizer& optimizer);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& bytes, const std::string& source);

// The default CPU generator's state (what torch::rand, dropout and randperm draw from).
std::string cpu_rng_state();
void set_cpu_rng_state(const std::string& bytes, const std::string& source);

}  // namespace avf
