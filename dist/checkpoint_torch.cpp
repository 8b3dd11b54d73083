#include "dist/checkpoint_torch.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <mutex>

#include "dist/checkpoint_store.h"

namespace avf::dist {
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

template <class Loadable>
void from_bytes(Loadable& object, const std::string& bytes, const std::string& source) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    object.load(archive);
  } catch (const c10::Error& e) {
    // c10 messages carry a C++ backtrace; the first line says what did not fit.
    const std::string what = e.what_without_backtrace();
    throw CheckpointError(fmt::format("{}: does not fit: {}", source, what.substr(0, what.find('\n'))));
  }
}

}  // namespace

std::string serialize_module(const torch::nn::Module& module) { return to_bytes(module); }
void load_module(torch::nn::Module& module, const std::string& bytes, const std::string& source) {
  from_bytes(module, bytes, source);
}

std::string serialize_optimizer(const torch::optim::Optimizer& optimizer) { return to_bytes(optimizer); }
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& bytes, const std::string& source) {
  from_bytes(optimizer, bytes, source);
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

}  // namespace avf::dist
