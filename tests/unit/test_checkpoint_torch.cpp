// Torch state through checkpoint bytes: training continued from a checkpoint equals training that was
// never interrupted, bit for bit.
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "core/training/checkpoint_store.h"
#include "core/training/checkpoint_torch.h"
#include "run_command.h"

using namespace avf;

namespace {

void train_steps(torch::nn::Linear& model, torch::optim::SGD& optimizer, int steps) {
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    const auto x = torch::rand({8, 4});  // from the default generator, which is checkpointed too
    model(x).pow(2).mean().backward();
    optimizer.step();
  }
}

}  // namespace

TEST(CheckpointTorch, ResumedTrainingIsBitIdenticalToUninterrupted) {
  torch::manual_seed(3);
  torch::nn::Linear model(4, 3);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  train_steps(model, optimizer, 2);

  CheckpointPayload saved;
  saved.step = 2;
  saved.model = serialize_module(*model);
  saved.optimizer = serialize_optimizer(optimizer);
  const std::string rng_state = cpu_rng_state();
  saved.state["rng"] = nlohmann::json::binary(std::vector<uint8_t>(rng_state.begin(), rng_state.end()));
  const std::string dir = make_temp_dir("avf-ckpt-torch");
  CheckpointStore(dir, "mean", 0, RunInfo{}).save_last(saved);

  train_steps(model, optimizer, 3);  // the uninterrupted run

  torch::manual_seed(99);  // a fresh process: other weights, other RNG, other learning rate
  torch::nn::Linear resumed(4, 3);
  torch::optim::SGD resumed_optimizer(resumed->parameters(), torch::optim::SGDOptions(0.5).momentum(0.9));
  const Checkpoint c = load_checkpoint(dir + "/last");
  load_module(*resumed, c.payload.model, c.path + "/model.pt");
  load_optimizer(resumed_optimizer, c.payload.optimizer, c.path + "/optimizer.pt");
  const auto& rng = c.payload.state["rng"].get_binary();
  set_cpu_rng_state(std::string(rng.begin(), rng.end()), c.path + "/state.cbor");
  EXPECT_DOUBLE_EQ(resumed_optimizer.param_groups()[0].options().get_lr(), 0.1);
  train_steps(resumed, resumed_optimizer, 3);

  EXPECT_TRUE(torch::equal(resumed->weight, model->weight));
  EXPECT_TRUE(torch::equal(resumed->bias, model->bias));
}

TEST(CheckpointTorch, MismatchedModuleNamesTheSource) {
  torch::nn::Linear small(4, 3), other(5, 3);
  try {
    load_module(*other, serialize_module(*small), "ckpt/last/model.pt");
    FAIL() << "a 4-input weight loaded into a 5-input layer";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()),
              "ckpt/last/model.pt: does not fit: weight has shape [3, 4], the model expects [3, 5]");
  }
  EXPECT_THROW(load_module(*small, "not an archive", "x"), CheckpointError);
}

TEST(CheckpointTorch, RngStateRoundTrip) {
  const std::string state = cpu_rng_state();
  const auto a = torch::rand({5});
  set_cpu_rng_state(state, "test");
  EXPECT_TRUE(torch::equal(torch::rand({5}), a));
  EXPECT_THROW(set_cpu_rng_state("short", "state.cbor"), CheckpointError);
}
