// Learning-rate schedules and optimizers (core/training/lr_schedule.h, optimizer.h): rates worked by
// hand, the plateau's state through JSON (what the checkpoint carries), and Adam vs AdamW decay.
#include <gtest/gtest.h>

#include <cmath>

#include "core/training/lr_schedule.h"
#include "core/training/optimizer.h"

namespace avf {
namespace {

TrainConfig schedule(const std::string& name) {
  TrainConfig t;
  t.lr = 1.0;
  t.schedule = name;
  return t;
}

TEST(LrSchedule, ConstantIsTheBaseRate) {
  LrSchedule s(schedule("constant"), 100);
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(s.rate(99, 40), 1.0);
}

TEST(LrSchedule, StepDecaysEveryEpochsAfterTheStart) {
  auto t = schedule("step");
  t.decay_start = 15, t.decay_every = 2, t.decay_factor = 0.8;  // the authors' recipe
  LrSchedule s(t, 1000);
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(s.rate(0, 16), 1.0);  // epochs 15 and 16: the first period after the start
  EXPECT_DOUBLE_EQ(s.rate(0, 17), 0.8);
  EXPECT_DOUBLE_EQ(s.rate(0, 18), 0.8);
  EXPECT_NEAR(s.rate(0, 19), 0.64, 1e-15);
  EXPECT_NEAR(s.rate(0, 25), std::pow(0.8, 5), 1e-15);
}

TEST(LrSchedule, CosineWarmsUpThenFollowsHalfACosine) {
  auto t = schedule("cosine");
  t.warmup_steps = 2, t.min_lr = 0.1;
  LrSchedule s(t, 6);  // 2 warm-up steps, then 4 along the cosine
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(s.rate(1, 0), 1.0);
  EXPECT_DOUBLE_EQ(s.rate(2, 0), 1.0);                                     // cos(0)
  EXPECT_NEAR(s.rate(4, 0), 0.1 + 0.9 * 0.5, 1e-12);                       // halfway: (1 + cos(pi/2)) / 2
  EXPECT_NEAR(s.rate(3, 0), 0.1 + 0.9 * (1 + std::sqrt(0.5)) / 2, 1e-12);  // a quarter: cos(pi/4)
  EXPECT_NEAR(s.rate(6, 0), 0.1, 1e-12);
  EXPECT_NEAR(s.rate(60, 0), 0.1, 1e-12);  // past the end it stays at min-lr
}

TEST(LrSchedule, PlateauDropsAfterPatienceValidationsWithoutImprovement) {
  auto t = schedule("plateau");
  t.plateau_patience = 2, t.decay_factor = 0.1, t.min_lr = 0.005;
  LrSchedule s(t, 100);
  s.on_validation(0.5);  // improves on nothing
  s.on_validation(0.4);  // 1 without improvement
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 1.0);
  s.on_validation(NAN);  // 2: a NaN never improves -> drop
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 0.1);
  s.on_validation(0.6);  // improves: the count restarts
  s.on_validation(0.6);  // equal is no improvement
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 0.1);
  s.on_validation(0.55);
  EXPECT_NEAR(s.rate(0, 0), 0.01, 1e-15);
  s.on_validation(0.5), s.on_validation(0.5);
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 0.005);  // 0.001 would be below min-lr
}

TEST(LrSchedule, PlateauStateSurvivesJson) {
  auto t = schedule("plateau");
  t.plateau_patience = 2, t.decay_factor = 0.5;
  LrSchedule a(t, 100);
  a.on_validation(0.5), a.on_validation(0.1), a.on_validation(0.2), a.on_validation(0.3);  // drop, then 1 bad
  LrSchedule b(t, 100);
  b.load(nlohmann::json::parse(a.to_json().dump()));
  EXPECT_DOUBLE_EQ(b.rate(0, 0), 0.5);
  a.on_validation(0.3), b.on_validation(0.3);  // the second bad one: both drop again
  EXPECT_DOUBLE_EQ(a.rate(0, 0), 0.25);
  EXPECT_DOUBLE_EQ(b.rate(0, 0), 0.25);
  LrSchedule fresh(t, 100);
  fresh.load(nlohmann::json::parse(LrSchedule(t, 100).to_json().dump()));  // "no validation yet" (null best)
  fresh.on_validation(0.1);
  EXPECT_DOUBLE_EQ(fresh.rate(0, 0), 1.0);
}

// One step from w = 1 with a zero loss gradient: Adam's L2 decay enters the gradient (so the step is
// lr in size, Adam's normalisation), AdamW's is decoupled (w shrinks by lr * weight_decay).
TEST(Optimizer, AdamDecaysThroughTheGradientAdamWDirectly) {
  for (const std::string name : {"adam", "adamw"}) {
    TrainConfig t;
    t.optimizer = name, t.lr = 0.1, t.weight_decay = 0.5;
    auto w = torch::ones({1}, torch::requires_grad());
    auto opt = make_optimizer(t, {w});
    w.mutable_grad() = torch::zeros({1});
    opt->step();
    const double expected = name == "adam" ? 1.0 - 0.1 : 1.0 - 0.1 * 0.5;
    EXPECT_NEAR(w.item<double>(), expected, 1e-6) << name;
  }
}

TEST(Optimizer, SetLearningRateReachesEveryGroup) {
  TrainConfig t;
  auto w = torch::ones({1}, torch::requires_grad());
  auto opt = make_optimizer(t, {w});
  set_learning_rate(*opt, 0.25);
  for (auto& g : opt->param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.25);
}

}  // namespace
}  // namespace avf
