// HDF5 export read back with the plain HDF5 C API, and inflation of 2D weights into I3D.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/models/audio_net.h"
#include "core/models/i3d.h"
#include "core/models/i3d_weights.h"
#include "core/models/inflate.h"
#include "core/models/make_models.h"
#include "core/models/weights_hdf5.h"

namespace avf {
namespace {

namespace F = torch::nn::functional;
using Shape = std::vector<int64_t>;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".h5")).string();
}

TEST(Export, OneDatasetPerParameterAndBufferWithAttributes) {
  AudioNet net(2, 16);
  net->forward(torch::randn({2, 1, 128, 129}));  // moves the BatchNorm running statistics off their defaults
  auto path = temp_path("export");
  nlohmann::json attrs{
      {"fusion", "cross-attention"}, {"width", 0.5}, {"hidden", 256}, {"targets", {"valence", "arousal"}}};
  export_state_to_hdf5(*net, path, attrs);

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5G_info_t info;
  H5Gget_info(file, &info);
  EXPECT_EQ(info.nlinks, net->parameters().size() + net->buffers().size());

  auto read_floats = [&](const char* name, Shape expected_shape) {
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    EXPECT_GE(ds, 0) << name;
    hid_t space = H5Dget_space(ds);
    std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    EXPECT_EQ(Shape(dims.begin(), dims.end()), expected_shape) << name;
    std::vector<float> values(H5Sget_simple_extent_npoints(space));
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Sclose(space);
    H5Dclose(ds);
    return torch::tensor(values).reshape(expected_shape);
  };
  auto weight = read_floats("block1.conv1.weight", {4, 1, 5, 5});
  EXPECT_TRUE(torch::equal(weight, net->block1->named_parameters()["conv1.weight"]));
  auto running_var = read_floats("block1.bn1.running_var", {4});
  EXPECT_TRUE(torch::equal(running_var, net->block1->named_buffers()["bn1.running_var"]));

  hid_t counter = H5Dopen2(file, "block1.bn1.num_batches_tracked", H5P_DEFAULT);
  int64_t batches = 0;
  H5Dread(counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &batches);
  EXPECT_EQ(batches, 1);
  H5Dclose(counter);

  auto read_attr = [&](const char* name, hid_t type, void* out) {
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    EXPECT_GE(a, 0) << name;
    H5Aread(a, type, out);
    H5Aclose(a);
  };
  double width = 0;
  int64_t hidden = 0;
  read_attr("width", H5T_NATIVE_DOUBLE, &width);
  read_attr("hidden", H5T_NATIVE_INT64, &hidden);
  EXPECT_EQ(width, 0.5);
  EXPECT_EQ(hidden, 256);
  auto read_string = [&](const char* name) {
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t type = H5Aget_type(a);
    std::string text(H5Tget_size(type), '\0');
    H5Aread(a, type, text.data());
    H5Tclose(type);
    H5Aclose(a);
    return text;
  };
  EXPECT_EQ(read_string("fusion"), "cross-attention");
  EXPECT_EQ(read_string("targets"), R"(["valence","arousal"])");
  H5Fclose(file);

  auto back = read_tensors_hdf5(path);
  EXPECT_EQ(back.size(), info.nlinks);
  EXPECT_TRUE(torch::equal(back.at("fc5.weight"), net->fc5->weight));
  EXPECT_EQ(back.at("block3.bn2.num_batches_tracked").item<int64_t>(), 1);
  std::filesystem::remove(path);
}

TEST(Inflate, KernelIsRepeatedOverTimeAndDividedByDepth) {
  auto k2 = torch::randn({2, 3, 5, 5});
  auto k3 = inflate_kernel(k2, 4);
  EXPECT_EQ(k3.sizes().vec(), (Shape{2, 3, 4, 5, 5}));
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(torch::allclose(k3.select(2, t), k2 / 4));
  EXPECT_TRUE(torch::allclose(k3.sum(2), k2));
}

// 2D weights for every trunk tensor of `net`, named by its path, as a user's converted
// Inception-v1 checkpoint would hold them.
NamedTensors random_2d_weights(I3DImpl& net) {
  NamedTensors weights;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    if (name.rfind("logits.", 0) == 0 || name.find("num_batches_tracked") != std::string::npos) return;
    if (t.dim() == 5)
      weights.emplace_back(name, torch::randn({t.size(0), t.size(1), t.size(3), t.size(4)}) * 0.1);
    else if (name.find("running_var") != std::string::npos || name.find("bn.weight") != std::string::npos)
      weights.emplace_back(name, torch::rand(t.sizes()) + 0.5);
    else
      weights.emplace_back(name, torch::randn(t.sizes()) * 0.1);
  };
  for (const auto& p : net.named_parameters()) add(p.key(), p.value());
  for (const auto& b : net.named_buffers()) add(b.key(), b.value());
  return weights;
}

torch::Tensor find(const NamedTensors& weights, const std::string& name) {
  for (const auto& [n, t] : weights)
    if (n == name) return t;
  throw std::runtime_error("no " + name);
}

// The 2D layer: conv with SAME padding, BatchNorm with the 2D statistics, ReLU.
torch::Tensor unit2d(const torch::Tensor& image, const NamedTensors& w, const std::string& unit, int64_t stride) {
  auto kernel = find(w, unit + ".conv.weight");
  auto padded = pad_same(image.unsqueeze(2), {1, kernel.size(2), kernel.size(3)}, {1, stride, stride}, 0.0).squeeze(2);
  auto y = F::conv2d(padded, kernel, F::Conv2dFuncOptions().stride(stride));
  y = F::batch_norm(
      y, find(w, unit + ".bn.running_mean"), find(w, unit + ".bn.running_var"),
      F::BatchNormFuncOptions().weight(find(w, unit + ".bn.weight")).bias(find(w, unit + ".bn.bias")).eps(1e-3));
  return torch::relu(y);
}

TEST(Inflate, OnAClipConstantOverTimeTheInflatedLayerEqualsThe2DLayer) {
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  I3D net(2, 0.125);
  net->eval();
  auto weights = random_2d_weights(*net);
  auto path = temp_path("inception2d");
  write_tensors_hdf5(path, weights, {});
  EXPECT_EQ(inflate_i3d_from_hdf5(*net, path), static_cast<int>(weights.size()));
  std::filesystem::remove(path);

  // Conv3d_1a_7x7 (7x7x7, stride 2) on 16 identical frames: 8 output steps; steps 1..5 see only real
  // frames (steps 0, 6, 7 overlap the zero padding in time, where the sum over depth is incomplete).
  auto image = torch::randn({1, 3, 32, 32});
  auto clip = image.unsqueeze(2).expand({1, 3, 16, 32, 32}).contiguous();
  auto out3d = net->Conv3d_1a_7x7(clip);
  auto out2d = unit2d(image, weights, "Conv3d_1a_7x7", 2);
  ASSERT_EQ(out3d.size(2), 8);
  for (int t = 1; t <= 5; ++t) EXPECT_TRUE(torch::allclose(out3d.select(2, t), out2d, 1e-4, 1e-5)) << "step " << t;
  EXPECT_FALSE(torch::allclose(out3d.select(2, 0), out2d, 1e-4, 1e-5));

  // A 3x3x3 unit inside an Inception module (stride 1): every step but the first and last.
  int64_t channels = net->Mixed_3b->b1b->conv->weight.size(1);
  auto features = torch::rand({1, channels, 8, 8});
  auto block3d = net->Mixed_3b->b1b(features.unsqueeze(2).expand({1, channels, 6, 8, 8}).contiguous());
  auto block2d = unit2d(features, weights, "Mixed_3b.b1b", 1);
  for (int t = 1; t <= 4; ++t) EXPECT_TRUE(torch::allclose(block3d.select(2, t), block2d, 1e-4, 1e-5)) << "step " << t;
}

TEST(MakeModels, FollowTheModelConfig) {
  ModelConfig config;
  config.width = 0.125;
  config.visual_dropout = 0.3;
  config.audio_width_div = 16;
  config.audio_dropout = 0.2;
  auto audio = make_audio_net(config, 1);
  EXPECT_EQ(audio->feature_dim(), 64);
  EXPECT_DOUBLE_EQ(audio->dropout->options.p(), 0.2);

  auto fresh = make_i3d(config, 2);
  EXPECT_EQ(fresh->feature_dim(), 128);
  EXPECT_DOUBLE_EQ(fresh->dropout->options.p(), 0.3);
  // With model.inflate-from, the trunk starts from the file's 2D weights.
  auto weights = random_2d_weights(*fresh);
  config.inflate_from = temp_path("make-i3d");
  write_tensors_hdf5(config.inflate_from, weights, {});
  auto inflated = make_i3d(config, 2);
  std::filesystem::remove(config.inflate_from);
  auto kernel2d = find(weights, "Mixed_4c.b2b.conv.weight");
  EXPECT_TRUE(torch::allclose(inflated->Mixed_4c->b2b->conv->weight, inflate_kernel(kernel2d, 3)));
}

TEST(Inflate, MissingUnknownOrMisshapenDatasetsAreErrors) {
  I3D net(2, 0.125);
  auto path = temp_path("bad2d");
  auto expect_error = [&](NamedTensors weights, const std::string& mentions) {
    write_tensors_hdf5(path, weights, {});
    try {
      inflate_i3d_from_hdf5(*net, path);
      ADD_FAILURE() << "accepted a file that should mention " << mentions;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(mentions), std::string::npos) << e.what();
    }
  };
  auto weights = random_2d_weights(*net);
  auto missing = weights;
  missing.erase(missing.begin() + 3);
  expect_error(missing, "missing dataset " + weights[3].first);
  auto unknown = weights;
  unknown.emplace_back("Mixed_9z.conv.weight", torch::zeros({1}));
  expect_error(unknown, "Mixed_9z.conv.weight");
  auto misshapen = weights;
  misshapen[0].second = torch::zeros({1, 2, 3, 4});
  expect_error(misshapen, weights[0].first + " has shape");
  std::filesystem::remove(path);
  EXPECT_THROW(
      {
        try {
          inflate_i3d_from_hdf5(*net, path);
        } catch (const std::runtime_error& e) {
          EXPECT_EQ(std::string(e.what()), path + ": HDF5 could not open the file");
          throw;
        }
      },
      std::runtime_error);
}

// model.visual-weights: 3D weights as avf names them (what tools/convert-weights writes).
TEST(VisualWeights, ThreeDWeightsLoadAsTheyAreAndAForeignClassifierIsLeftOut) {
  torch::manual_seed(5);
  I3D source(4, 0.125);
  source->forward(torch::randn({1, 3, 16, 64, 64}));  // running statistics off their defaults (2x2x2 at Mixed_5c)
  auto path = temp_path("visual-weights");
  export_state_to_hdf5(*source, path, nlohmann::json::object());

  ModelConfig config;
  config.width = 0.125;
  config.visual_weights = path;
  auto same_classes = make_i3d(config, 4);
  for (const auto& p : source->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), same_classes->named_parameters()[p.key()])) << p.key();
  EXPECT_TRUE(torch::equal(source->Mixed_5c->b2b->bn->running_var, same_classes->Mixed_5c->b2b->bn->running_var));

  // 4 classes in the file, 2 targets in the model: the trunk loads, the classifier keeps its init.
  I3D other(2, 0.125);
  auto before = other->logits->weight.clone();
  auto loaded = load_i3d_weights(*other, path, KernelLayout::same_as_model);
  EXPECT_FALSE(loaded.logits);
  EXPECT_NE(loaded.logits_note.find("4 outputs and the model 2"), std::string::npos) << loaded.logits_note;
  EXPECT_TRUE(torch::equal(other->logits->weight, before));
  EXPECT_TRUE(torch::equal(other->Conv3d_1a_7x7->conv->weight, source->Conv3d_1a_7x7->conv->weight));

  config.inflate_from = path;  // both starting points at once
  EXPECT_THROW(make_i3d(config, 4), std::invalid_argument);
  std::filesystem::remove(path);
}

TEST(VisualWeights, TwoDKernelsAreRefusedNamingInflateFrom) {
  I3D net(2, 0.125);
  auto path = temp_path("visual-2d");
  write_tensors_hdf5(path, random_2d_weights(*net), {});
  try {
    load_i3d_weights(*net, path, KernelLayout::same_as_model);
    ADD_FAILURE() << "2D kernels accepted as 3D weights";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("model.inflate-from"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace avf
