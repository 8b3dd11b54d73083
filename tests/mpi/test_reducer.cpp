// The reducer against the definition of data parallelism: two ranks with half a batch each must
// produce the gradients (and, after SGD steps, the weights) of one process with the whole batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/communicator.h"
#include "dist/process_group.h"
#include "dist/reducer.h"

using namespace avf::dist;

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(4, 8, 3)));
    fc1 = register_module("fc1", torch::nn::Linear(8 * 14, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 2));
    unused = register_module("unused", torch::nn::Linear(2, 2));
  }
  torch::Tensor forward(torch::Tensor x, bool use_extra = false) {
    auto h = torch::relu(conv(x)).flatten(1);
    auto y = fc2(torch::relu(fc1(h)));
    return use_extra ? unused(y) : y;
  }
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, unused{nullptr};
};
TORCH_MODULE(Net);

constexpr int kGlobalBatch = 8;

std::pair<torch::Tensor, torch::Tensor> global_batch(int step) {
  torch::manual_seed(1000 + step);
  return {torch::randn({kGlobalBatch, 4, 16}), torch::randn({kGlobalBatch, 2})};
}

torch::Tensor my_half(const torch::Tensor& t, int rank, int size) {
  const int64_t n = t.size(0) / size;
  return t.narrow(0, rank * n, n);
}

Net make_net(uint64_t seed) {
  torch::manual_seed(seed);
  return Net();
}

Communicator& comm() {
  static auto c = make_communicator({"mpi", 60, false}, torch::kCPU);
  return *c;
}

}  // namespace

TEST(Reducer, StartsFromRankZerosWeights) {
  auto net = make_net(100 + comm().rank());  // deliberately different initialisations
  Reducer reducer(*net, comm());
  auto reference = make_net(100);
  for (size_t i = 0; i < net->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(net->parameters()[i], reference->parameters()[i]));
}

TEST(Reducer, GradientsEqualSingleProcessGradientOfWholeBatch) {
  auto net = make_net(7);
  auto single = make_net(7);
  Reducer reducer(*net, comm(), {0.001, 0.0005});  // tiny buckets: many collectives
  ASSERT_GT(reducer.bucket_count(), 2u);
  auto [x, y] = global_batch(0);
  reducer.prepare_for_backward();
  torch::mse_loss(net->forward(my_half(x, comm().rank(), comm().size())), my_half(y, comm().rank(), comm().size()))
      .backward();
  reducer.finalize();
  torch::mse_loss(single->forward(x), y).backward();
  for (size_t i = 0; i < net->parameters().size(); ++i) {
    const auto& g = net->parameters()[i].grad();
    const auto& ref = single->parameters()[i].grad();
    if (!ref.defined()) continue;  // the unused layer
    EXPECT_TRUE(torch::allclose(g, ref, 1e-6, 1e-7))
        << "parameter " << i << " max diff " << (g - ref).abs().max().item<double>();
  }
}

TEST(Reducer, SgdStepsMatchOneRankWithSameGlobalBatch) {
  auto net = make_net(11);
  auto single = make_net(11);
  Reducer reducer(*net, comm());
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  torch::optim::SGD opt1(single->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  for (int step = 0; step < 5; ++step) {
    auto [x, y] = global_batch(step);
    opt.zero_grad();
    reducer.prepare_for_backward();
    torch::mse_loss(net->forward(my_half(x, comm().rank(), comm().size())), my_half(y, comm().rank(), comm().size()))
        .backward();
    reducer.finalize();
    opt.step();
    opt1.zero_grad();
    torch::mse_loss(single->forward(x), y).backward();
    opt1.step();
  }
  for (size_t i = 0; i < net->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(net->parameters()[i], single->parameters()[i], 1e-5, 1e-6)) << "parameter " << i;
}

TEST(Reducer, BucketsLaunchBeforeBackwardEnds) {
  // A deeper model so backward lasts long enough to see the overlap in timestamps.
  torch::manual_seed(3);
  torch::nn::Sequential deep;
  for (int i = 0; i < 8; ++i) deep->push_back(torch::nn::Linear(256, 256)), deep->push_back(torch::nn::ReLU());
  Reducer reducer(*deep, comm(), {0.3, 0.3});
  auto x = torch::randn({64, 256});
  reducer.prepare_for_backward();
  deep->forward(x).pow(2).mean().backward();
  reducer.finalize();
  const auto& t = reducer.last_step();
  ASSERT_GE(t.buckets.size(), 3u);
  int before_end = 0;
  for (const auto& b : t.buckets) before_end += b.launched_s < t.backward_end_s;
  EXPECT_GE(before_end, 2) << "buckets launched during backward: " << before_end << " of " << t.buckets.size();
  EXPECT_LT(t.buckets.front().launched_s, t.backward_end_s);
}

TEST(Reducer, UnusedParametersOnOneRankDoNotHang) {
  auto net = make_net(5);
  Reducer reducer(*net, comm());
  auto [x, y] = global_batch(1);
  const bool use_extra = comm().rank() == 1;  // only rank 1 touches the `unused` layer
  reducer.prepare_for_backward();
  torch::mse_loss(net->forward(my_half(x, comm().rank(), comm().size()), use_extra),
                  my_half(y, comm().rank(), comm().size()))
      .backward();
  reducer.finalize();
  ASSERT_TRUE(net->unused->weight.grad().defined());
  // Rank 0 contributed zeros, so both ranks hold half of rank 1's gradient.
  auto g = net->unused->weight.grad().clone();
  auto all = torch::empty({comm().size() * g.numel()});
  comm().allgather(g.reshape(-1), all, "compare")->wait();
  EXPECT_TRUE(torch::equal(all.narrow(0, 0, g.numel()), all.narrow(0, g.numel(), g.numel())));
  EXPECT_GT(g.abs().sum().item<double>(), 0);
}

TEST(Reducer, GradientsLiveInTheBucketsAcrossOptimizerSteps) {
  auto net = make_net(11);
  auto single = make_net(11);
  Reducer reducer(*net, comm());
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  torch::optim::SGD single_opt(single->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::vector<void*> places;
  for (int step = 0; step < 3; ++step) {
    auto [x, y] = global_batch(10 + step);
    opt.zero_grad();  // in place: the gradients stay in their buckets
    reducer.prepare_for_backward();
    torch::mse_loss(net->forward(my_half(x, comm().rank(), comm().size())), my_half(y, comm().rank(), comm().size()))
        .backward();
    reducer.finalize();
    opt.step();
    single_opt.zero_grad();
    torch::mse_loss(single->forward(x), y).backward();
    single_opt.step();
    std::vector<void*> now;
    for (const auto& p : {net->conv->weight, net->fc1->weight, net->fc2->bias}) now.push_back(p.grad().data_ptr());
    if (step > 0) {
      EXPECT_EQ(now, places) << "step " << step << ": a gradient moved out of its bucket";
    }
    places = now;
    // No rank used `unused`: it has no gradient, so SGD (momentum included) leaves it alone.
    EXPECT_FALSE(net->unused->weight.grad().defined());
  }
  for (size_t i = 0; i < net->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(net->parameters()[i], single->parameters()[i], 1e-5, 1e-6)) << "parameter " << i;
}

TEST(Reducer, NaiveBaselineGivesTheBucketedGradients) {
  auto bucketed_net = make_net(12), naive_net = make_net(12);
  Reducer bucketed(*bucketed_net, comm(), {0.001, 0.0005});
  Reducer naive(*naive_net, comm(), {25, 1, false});
  EXPECT_EQ(naive.bucket_count(), 0u);
  auto [x, y] = global_batch(4);
  for (auto* r : {&bucketed, &naive}) {
    auto& net = r == &bucketed ? bucketed_net : naive_net;
    r->prepare_for_backward();
    torch::mse_loss(net->forward(my_half(x, comm().rank(), comm().size())), my_half(y, comm().rank(), comm().size()))
        .backward();
    r->finalize();
  }
  for (const auto& name : {"conv.weight", "fc1.weight", "fc2.bias"})
    EXPECT_TRUE(torch::allclose(bucketed_net->named_parameters().find(name)->grad(),
                                naive_net->named_parameters().find(name)->grad(), 1e-6, 1e-7))
        << name;
}

TEST(Reducer, NoSyncAccumulatesLikeOneBigBatch) {
  auto net = make_net(9);
  auto single = make_net(9);
  Reducer reducer(*net, comm());
  auto [x, y] = global_batch(2);
  auto mine_x = my_half(x, comm().rank(), comm().size()), mine_y = my_half(y, comm().rank(), comm().size());
  // Two micro-batches of 2 per rank; losses scaled by 1/2 so the sum is the mean over 4.
  reducer.set_sync(false);
  reducer.prepare_for_backward();
  (torch::mse_loss(net->forward(mine_x.narrow(0, 0, 2)), mine_y.narrow(0, 0, 2)) / 2).backward();
  reducer.finalize();
  reducer.set_sync(true);
  reducer.prepare_for_backward();
  (torch::mse_loss(net->forward(mine_x.narrow(0, 2, 2)), mine_y.narrow(0, 2, 2)) / 2).backward();
  reducer.finalize();
  torch::mse_loss(single->forward(x), y).backward();
  EXPECT_TRUE(torch::allclose(net->fc1->weight.grad(), single->fc1->weight.grad(), 1e-6, 1e-7));
}

TEST(Reducer, ShapeMismatchIsAClearError) {
  torch::manual_seed(1);
  torch::nn::Linear lin(4, comm().rank() == 0 ? 3 : 5);
  try {
    Reducer reducer(*lin, comm());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the model differs between ranks: tensor #0 is 'weight float 3x4' on "
                                         "rank 0 but 'weight float 5x4' on rank 1"),
              std::string::npos)
        << e.what();
  }
}

TEST(Communicator, AllgathervAndBroadcast) {
  auto mine = torch::arange(comm().rank() + 2, torch::kFloat);
  auto all = comm().allgatherv(mine);
  ASSERT_EQ(all.size(), size_t(comm().size()));
  for (int r = 0; r < comm().size(); ++r) EXPECT_TRUE(torch::equal(all[r], torch::arange(r + 2, torch::kFloat)));
  auto t = torch::full({3}, double(comm().rank()), torch::kDouble);
  comm().broadcast(t, comm().size() - 1)->wait();
  EXPECT_TRUE(torch::equal(t, torch::full({3}, double(comm().size() - 1), torch::kDouble)));
}

TEST(Communicator, DebugModeCatchesMismatchedCollectives) {
  auto debug = make_communicator({"mpi", 60, true}, torch::kCPU);
  auto t = torch::ones({comm().rank() == 0 ? 4 : 5});
  try {
    debug->allreduce(t, ReduceOp::sum, "mismatched")->wait();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("collective mismatch at 'mismatched #0'"), std::string::npos) << e.what();
  }
}
