// dist.global-statistics against its definition: two ranks holding half a batch each must compute the
// loss, the BatchNorm outputs and (summed over ranks) the gradients of one process holding the whole
// batch. Run under mpirun -np 2; every rank builds the same global batch and takes its half.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/models/batch_norm.h"
#include "core/training/ccc_loss.h"
#include "dist/communicator.h"
#include "dist/process_group.h"

using namespace avf;

namespace {

dist::Communicator& comm() {
  static auto c = dist::make_communicator({"mpi", 60, false}, torch::kCPU);
  return *c;
}

torch::Tensor my_half(const torch::Tensor& t) {
  const int64_t n = t.size(0) / comm().size();
  return t.narrow(0, comm().rank() * n, n);
}

torch::Tensor summed_over_ranks(torch::Tensor t) {
  t = t.contiguous().clone();
  comm().allreduce(t, dist::ReduceOp::sum, "test sum")->wait();
  return t;
}

TEST(GlobalCccLoss, EqualsTheWholeBatchsLossAndGradient) {
  ASSERT_EQ(comm().size(), 2);
  torch::manual_seed(7);
  auto label = torch::randn({8, 4, 2}, torch::kFloat64);
  label[5][1][0] = NAN;  // a missing label on rank 1's half
  auto pred = (0.6 * label.nan_to_num() + 0.5 * torch::randn_like(label) + 0.2).to(torch::kFloat);

  auto whole = pred.clone().requires_grad_();
  auto whole_loss = ccc_loss(whole, label);
  whole_loss.backward();

  auto part = my_half(pred).clone().requires_grad_();
  auto loss = global_ccc_loss(part, my_half(label), &comm());
  loss.backward();
  // The same value on every rank: the loss of the global batch, not of this rank's half.
  EXPECT_NEAR(loss.item<double>(), whole_loss.item<double>(), 1e-6);
  EXPECT_GT(std::abs(ccc_loss(my_half(pred), my_half(label)).item<double>() - whole_loss.item<double>()), 1e-3)
      << "the halves' own losses must differ from the whole batch's, or this test proves nothing";
  // This rank's gradient is the whole batch's gradient at this rank's predictions.
  EXPECT_TRUE(torch::allclose(part.grad(), my_half(whole.grad()), 1e-5, 1e-7)) << part.grad() << "\nexpected\n"
                                                                               << my_half(whole.grad());
}

TEST(GlobalCccLoss, WithoutCommunicatorIsTheLocalLoss) {
  torch::manual_seed(8);
  auto label = torch::randn({6, 3, 2}, torch::kFloat64);
  auto pred = 0.5 * label + torch::randn_like(label);
  EXPECT_NEAR(global_ccc_loss(pred, label, nullptr).item<double>(), ccc_loss(pred, label).item<double>(), 1e-12);
}

// BatchNorm in training mode on 2 ranks x B equals BatchNorm on 1 process x 2B: outputs, running
// statistics, the input gradients of each rank's half, and the parameter gradients summed over ranks.
void check_global_batch_norm(std::vector<int64_t> shape) {
  ASSERT_EQ(comm().size(), 2);
  torch::manual_seed(11);
  auto x = torch::randn(shape) * 3 + 1;
  auto upstream = torch::randn(shape);
  const int64_t C = shape[1];

  torch::manual_seed(12);
  BatchNorm reference(torch::nn::BatchNormOptions(C).eps(1e-3));
  {
    torch::NoGradGuard no_grad;
    reference->weight.uniform_(0.5, 1.5);
    reference->bias.uniform_(-0.5, 0.5);
  }
  auto shared = std::dynamic_pointer_cast<BatchNormImpl>(reference->clone());
  BatchNorm distributed(shared);

  auto whole = x.clone().requires_grad_();
  auto y_whole = reference->forward(whole);  // no scope: torch::batch_norm over the whole batch
  (y_whole * upstream).sum().backward();

  auto part = my_half(x).clone().requires_grad_();
  torch::Tensor y_part;
  {
    GlobalBatchStatistics scope(&comm());
    y_part = distributed->forward(part);
    (y_part * my_half(upstream)).sum().backward();
  }
  EXPECT_TRUE(torch::allclose(y_part, my_half(y_whole), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(distributed->running_mean, reference->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(distributed->running_var, reference->running_var, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(part.grad(), my_half(whole.grad()), 1e-4, 1e-5))
      << (part.grad() - my_half(whole.grad())).abs().max();
  EXPECT_TRUE(torch::allclose(summed_over_ranks(distributed->weight.grad()), reference->weight.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(summed_over_ranks(distributed->bias.grad()), reference->bias.grad(), 1e-4, 1e-4));

  // Without the scope each rank normalises with its own half's statistics: different outputs.
  auto local = distributed->forward(my_half(x));
  EXPECT_FALSE(torch::allclose(local, my_half(y_whole), 1e-3, 1e-3));
}

TEST(GlobalBatchNorm, TwoRanksEqualOneProcessWithTheWholeBatch2d) { check_global_batch_norm({8, 3, 5, 4}); }
TEST(GlobalBatchNorm, TwoRanksEqualOneProcessWithTheWholeBatch3d) { check_global_batch_norm({4, 2, 3, 4, 4}); }

TEST(GlobalBatchNorm, EvalModeUsesTheRunningStatistics) {
  BatchNorm bn(3);
  bn->eval();
  GlobalBatchStatistics scope(&comm());
  auto x = torch::randn({2, 3, 4});
  EXPECT_TRUE(torch::allclose(bn->forward(x), x / std::sqrt(1 + 1e-5), 1e-5, 1e-6));  // mean 0, var 1
}

}  // namespace
