// Model weights as plain HDF5: one root dataset per tensor, named by its dotted module path
// ("Mixed_3b.b1b.conv.weight"), so h5py, PyTorch or h5dump read them without avf.
#pragma once
#include <torch/types.h>

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace avf {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes `tensors` (float32, float64, int64 or int32 on any device; half types become float32) and
// the top-level keys of `attrs` as root attributes: strings as strings, numbers as int64 or float64,
// anything else as its JSON text. Replaces an existing file.
void write_tensors_hdf5(const std::string& path, const NamedTensors& tensors, const nlohmann::json& attrs);
// Every root dataset of the file as a CPU tensor (floating point → float32, integers → int64).
std::map<std::string, torch::Tensor> read_tensors_hdf5(const std::string& path);

// `avf export`: every parameter and buffer of `module` (BatchNorm running statistics included) under
// its dotted path, with `attrs` (e.g. the model configuration) on the root.
void export_state_to_hdf5(const torch::nn::Module& module, const std::string& path, const nlohmann::json& attrs);

}  // namespace avf
