#include "core/models/stage_model.h"

#include <fmt/format.h>

#include <stdexcept>

#include "core/data/visual_input.h"
#include "core/models/audio_net.h"
#include "core/models/fusion.h"
#include "core/models/i3d.h"
#include "core/models/make_models.h"

namespace avf {
namespace {

// [B, L, ...] -> [B * L, ...] for networks that see one sub-sequence at a time.
torch::Tensor per_subsequence(const torch::Tensor& x) {
  auto sizes = x.sizes().vec();
  sizes.erase(sizes.begin());
  sizes[0] = x.size(0) * x.size(1);
  return x.reshape(sizes);
}

template <class Net>
class UnimodalModel : public StageModel {
 public:
  UnimodalModel(Net net, bool visual) : net_(std::move(net)), visual_(visual) {}
  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const Batch& b) override {
    const auto x = input(b);
    return net_->forward(per_subsequence(x)).prediction.view({x.size(0), x.size(1), -1});
  }
  torch::Tensor features(const Batch& b) override {
    const auto x = input(b);
    return net_->forward(per_subsequence(x)).feature.view({x.size(0), x.size(1), -1});
  }
  torch::Tensor network_input(const Batch& b) override { return per_subsequence(input(b)); }
  torch::Tensor network_features(const torch::Tensor& x) override { return net_->forward(x).feature; }

 private:
  // Face clips arrive as uint8 and become floats on the network's device (core/data/visual_input.h);
  // spectrogram windows are moved there as they are (nothing to do on the CPU).
  torch::Tensor input(const Batch& b) const {
    const auto device = net_->parameters().front().device();
    if (!visual_) return b.audio.to(device);
    return visual_clips(b.visual, b.visual_blank, device);
  }
  Net net_;
  bool visual_;
};

class FusionModel : public StageModel {
 public:
  explicit FusionModel(Fusion net) : net_(std::move(net)) {}
  torch::nn::Module& module() override { return *net_; }
  torch::Tensor forward(const Batch& b) override { return net_->forward(b.audio, b.visual).prediction; }
  torch::Tensor features(const Batch&) override {
    throw std::logic_error("the fusion stage has no features to extract");
  }
  torch::Tensor network_input(const Batch&) override {
    throw std::logic_error("the fusion stage is not benchmarked alone");
  }
  torch::Tensor network_features(const torch::Tensor&) override {
    throw std::logic_error("the fusion stage is not benchmarked alone");
  }
  std::vector<std::pair<std::string, torch::Tensor>> attention(const Batch& b) override {
    return net_->forward(b.audio, b.visual).attention;
  }

 private:
  Fusion net_;
};

}  // namespace

std::unique_ptr<StageModel> make_stage_model(const Config& c, int64_t n_targets, std::pair<int64_t, int64_t> dims) {
  const auto& m = c.model;
  if (c.train.stage == "visual") return std::make_unique<UnimodalModel<I3D>>(make_i3d(m, n_targets), true);
  if (c.train.stage == "audio") return std::make_unique<UnimodalModel<AudioNet>>(make_audio_net(m, n_targets), false);
  if (dims == std::pair<int64_t, int64_t>{0, 0})
    dims = {m.feature_dim, m.feature_dim};  // as stored with the checkpoint
  if (dims.first != dims.second)
    throw std::runtime_error(
        fmt::format("the fusion heads need equally sized audio and visual features, the extracted "
                    "ones are {} and {} (match model.width and model.audio-width-div)",
                    dims.first, dims.second));
  return std::make_unique<FusionModel>(
      make_fusion(m, dims.first, n_targets, c.data.sequence_frames / c.data.subsequence_frames));
}

}  // namespace avf
