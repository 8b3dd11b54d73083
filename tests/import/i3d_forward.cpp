// Test helper for tests/import/test_import_weights.py: avf's real I3D forward on a clip from HDF5.
//
//   i3d_forward (--visual-weights FILE | --inflate-from FILE) --targets N --input IN.h5 --output OUT.h5
//
// The network is built by make_i3d from a ModelConfig, so the configuration keys' loading path is
// the one under test. IN.h5 holds `clip` [B, 3, T, H, W] float32; OUT.h5 gets `feature` [B, 1024]
// (the pooled Mixed_5c map) and `logits` [B, N], computed in eval mode (dropout off, BatchNorm from
// the running statistics).
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/models/make_models.h"
#include "core/models/weights_hdf5.h"

int main(int argc, char** argv) {
  avf::ModelConfig config;
  std::string input, output;
  int64_t targets = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--visual-weights")
      config.visual_weights = value;
    else if (key == "--inflate-from")
      config.inflate_from = value;
    else if (key == "--targets")
      targets = std::stoll(value);
    else if (key == "--input")
      input = value;
    else if (key == "--output")
      output = value;
    else {
      std::cerr << "i3d_forward: unknown option " << key << "\n";
      return 2;
    }
  }
  if (input.empty() || output.empty() || targets < 1) {
    std::cerr
        << "usage: i3d_forward (--visual-weights F | --inflate-from F) --targets N --input IN.h5 --output OUT.h5\n";
    return 2;
  }
  try {
    torch::NoGradGuard no_grad;
    auto net = avf::make_i3d(config, targets);
    net->eval();
    const auto clip = avf::read_tensors_hdf5(input).at("clip");
    const auto out = net->forward(clip);
    avf::write_tensors_hdf5(output, {{"feature", out.feature}, {"logits", out.prediction}}, nlohmann::json::object());
  } catch (const std::exception& e) {
    std::cerr << "i3d_forward: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
