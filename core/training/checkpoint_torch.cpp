#include "core/training/checkpoint_torch.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <mutex>

#include "core/training/checkpoint_store.h"

namespace avf {
namespace {

template <class Saveable>
std::string to_bytes(const Saveable& object) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  std::string bytes;
  archive.save_to([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

// Runs `load`, turning torch's errors into a CheckpointError that names `source`.
template <class Load>
void loading(const std::string& source, const std::string& bytes, Load load) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    load(archive);
  } catch (const c10::Error& e) {
    // c10 messages carry a C++ backtrace; the first line says what did not fit.
    const std::string what = e.what_without_backtrace();
    throw CheckpointError(fmt::format("{}: does not fit: {}", source, what.substr(0, what.find('\n'))));
  }
}

}  // namespace

std::string serialize_module(const torch::nn::Module& module) { return to_bytes(module); }

void load_module(torch::nn::Module& module, const std::string& bytes, const std::string& source) {
  // InputArchive replaces tensors without comparing shapes, so a checkpoint of another model width
  // would load "successfully"; compare every parameter and buffer with what the module had.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : module.named_parameters()) expected.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : module.named_buffers()) expected.emplace_back(b.key(), b.value().sizes().vec());
  loading(source, bytes, [&](torch::serialize::InputArchive& archive) { module.load(archive); });
  auto found = module.named_parameters();
  for (const auto& b : module.named_buffers()) found.insert(b.key(), b.value());
  for (const auto& [name, sizes] : expected) {
    const auto actual = found[name].sizes().vec();
    if (actual != sizes)
      throw CheckpointError(fmt::format("{}: does not fit: {} has shape [{}], the model expects [{}]", source, name,
                                        fmt::join(actual, ", "), fmt::join(sizes, ", ")));
  }
}

std::string serialize_optimizer(const torch::optim::Optimizer& optimizer) { return to_bytes(optimizer); }
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& bytes, const std::string& source) {
  loading(source, bytes, [&](torch::serialize::InputArchive& archive) {
    optimizer.load(archive);
    // LibTorch 1.13 restores the per-parameter state but not the groups' options (learning rate,
    // momentum, ...), which an LR schedule changes; read those back from the same archive.
    torch::serialize::InputArchive groups;
    archive.read("param_groups", groups);
    for (size_t i = 0; i < optimizer.param_groups().size(); ++i) {
      torch::serialize::InputArchive group, options;
      groups.read("param_groups/" + std::to_string(i), group);
      group.read("options", options);
      optimizer.param_groups()[i].options().serialize(options);
    }
  });
}

std::string cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  const at::Tensor state = gen.get_state();
  return {static_cast<const char*>(state.data_ptr()), static_cast<size_t>(state.numel())};
}

void set_cpu_rng_state(const std::string& bytes, const std::string& source) {
  auto gen = at::detail::getDefaultCPUGenerator();
  at::Tensor state = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(state.data_ptr(), bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(gen.mutex());
  try {
    gen.set_state(state);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw CheckpointError(fmt::format("{}: not a CPU RNG state: {}", source, what.substr(0, what.find('\n'))));
  }
}

}  // namespace avf
