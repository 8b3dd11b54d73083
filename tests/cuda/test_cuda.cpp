// The GPU path (label `cuda`; tools/gpu-check runs these on a machine with an NVIDIA GPU and a CUDA
// LibTorch; elsewhere every case is skipped): the communicators on CUDA tensors, BatchNorm and the CCC
// loss over the global batch on the GPU, bf16 autocast, and I3D on the GPU against the CPU.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/data/device_batches.h"
#include "core/models/autocast.h"
#include "core/models/batch_norm.h"
#include "core/models/i3d.h"
#include "core/training/ccc_loss.h"
#include "dist/communicator.h"
#include "dist/process_group.h"

using namespace avf;

namespace {

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (or a CPU-only LibTorch)"

const torch::Device kGpu(torch::kCUDA, 0);

void check_collectives(dist::Communicator& comm) {
  auto t = torch::arange(6, torch::TensorOptions().dtype(torch::kFloat).device(kGpu));
  comm.allreduce(t, dist::ReduceOp::sum, "test sum")->wait();
  EXPECT_TRUE(torch::equal(t.cpu(), torch::arange(6, torch::kFloat) * comm.size()));
  comm.allreduce(t, dist::ReduceOp::avg, "test avg")->wait();
  EXPECT_TRUE(torch::equal(t.cpu(), torch::arange(6, torch::kFloat) * comm.size()));
  auto b = torch::full({3}, 7.0, torch::TensorOptions().device(kGpu));
  comm.broadcast(b, 0, "test broadcast")->wait();
  EXPECT_EQ(b.sum().item<double>(), 21.0);
  auto out = torch::empty({comm.size() * 2}, torch::TensorOptions().dtype(torch::kLong).device(kGpu));
  comm.allgather(torch::tensor({int64_t(1), int64_t(2)}, torch::kLong).to(kGpu), out, "test allgather")->wait();
  EXPECT_EQ(out.sum().item<int64_t>(), 3 * comm.size());
  // Control data stays on the CPU and still goes through the same communicator.
  auto host = torch::tensor({1.5, 2.5}, torch::kDouble);
  comm.allreduce(host, dist::ReduceOp::sum, "test host sum")->wait();
  EXPECT_TRUE(host.device().is_cpu());
  EXPECT_DOUBLE_EQ(host[1].item<double>(), 2.5 * comm.size());
  auto parts = comm.allgatherv(torch::tensor({int64_t(5)}, torch::kLong), "test allgatherv");
  ASSERT_EQ(int(parts.size()), comm.size());
  EXPECT_EQ(parts[0].item<int64_t>(), 5);
  comm.barrier()->wait();
}

TEST(Cuda, NcclCommunicatorOnOneRank) {
  REQUIRE_CUDA();
#if AVF_HAVE_NCCL
  dist::init_process_group();
  auto comm = dist::make_communicator({"nccl", 60, false}, kGpu);
  EXPECT_EQ(comm->backend(), "nccl");
  check_collectives(*comm);
#else
  GTEST_SKIP() << "built without NCCL";
#endif
}

TEST(Cuda, MpiCommunicatorStagesCudaTensorsThroughTheHost) {
  REQUIRE_CUDA();
  dist::init_process_group();
  auto comm = dist::make_communicator({"mpi", 60, false}, kGpu);
  check_collectives(*comm);
}

TEST(Cuda, GlobalBatchNormMatchesTheCpu) {
  REQUIRE_CUDA();
  torch::manual_seed(3);
  auto x = torch::randn({4, 3, 4, 5, 5}) * 2 + 1;
  BatchNorm cpu(torch::nn::BatchNormOptions(3).eps(1e-3));
  BatchNorm gpu(std::dynamic_pointer_cast<BatchNormImpl>(cpu->clone()));
  gpu->to(kGpu);
  auto xc = x.clone().requires_grad_(), xg = x.to(kGpu).requires_grad_();
  torch::Tensor yc, yg;
  {
    GlobalBatchStatistics scope(nullptr);
    yc = cpu->forward(xc);
    yg = gpu->forward(xg);
    yc.square().sum().backward();
    yg.square().sum().backward();
  }
  EXPECT_TRUE(torch::allclose(yg.cpu(), yc, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(xg.grad().cpu(), xc.grad(), 1e-3, 1e-4));
  EXPECT_TRUE(torch::allclose(gpu->running_var.cpu(), cpu->running_var, 1e-5, 1e-6));
}

TEST(Cuda, GlobalCccLossOnTheGpuEqualsTheCpu) {
  REQUIRE_CUDA();
  torch::manual_seed(4);
  auto label = torch::randn({8, 4, 2});
  auto pred = 0.5 * label + torch::randn_like(label);
  auto pg = pred.to(kGpu).requires_grad_(), pc = pred.clone().requires_grad_();
  auto lg = global_ccc_loss(pg, label.to(kGpu), nullptr), lc = global_ccc_loss(pc, label, nullptr);
  lg.backward();
  lc.backward();
  EXPECT_NEAR(lg.item<double>(), lc.item<double>(), 1e-6);
  EXPECT_TRUE(torch::allclose(pg.grad().cpu(), pc.grad(), 1e-4, 1e-6));
}

TEST(Cuda, Bf16AutocastRunsConvolutionsInBf16AndKeepsFloat32Gradients) {
  REQUIRE_CUDA();
  torch::manual_seed(5);
  I3D net(2, 0.0625, 0.0);
  net->to(kGpu);
  auto clip = torch::randn({2, 3, 16, 32, 32}, torch::TensorOptions().device(kGpu));
  torch::Tensor inside, prediction;
  {
    Autocast amp(kGpu, "bf16");
    inside = net->Conv3d_1a_7x7->conv(clip);
    prediction = net->forward(clip).prediction;
  }
  EXPECT_EQ(inside.scalar_type(), torch::kBFloat16);
  auto loss = ccc_loss(prediction.to(torch::kFloat), torch::randn({2, 2}, torch::TensorOptions().device(kGpu)));
  loss.backward();
  for (const auto& p : net->parameters())
    if (p.grad().defined()) EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
  EXPECT_EQ(net->Conv3d_1a_7x7->conv(clip).scalar_type(), torch::kFloat) << "autocast leaked out of its scope";
}

TEST(Cuda, I3dOnTheGpuMatchesTheCpu) {
  REQUIRE_CUDA();
  torch::manual_seed(6);
  I3D cpu(2, 0.125, 0.0);
  cpu->eval();
  auto clip = torch::randn({2, 3, 16, 48, 48});
  auto expected = cpu->forward(clip).feature;
  cpu->to(kGpu);
  auto actual = cpu->forward(clip.to(kGpu)).feature.cpu();
  // TF32 may be on for convolutions on Ampere and later: a relative tolerance of a few 1e-3.
  EXPECT_TRUE(torch::allclose(actual, expected, 5e-3, 5e-3)) << (actual - expected).abs().max();
}

}  // namespace

// The training batches' copy to the GPU one step ahead on a side stream (core/data/device_batches.h):
// every batch arrives on the device with the source's values, in order, with the one after already
// started; a step's compute on the current stream sees the finished copy.
TEST(Cuda, DeviceBatchesCopyTheNextBatchAheadOnASideStream) {
  REQUIRE_CUDA();
  int made = 0;
  DeviceBatches batches(
      [&]() -> std::optional<Batch> {
        if (made == 4) return std::nullopt;
        Batch b;
        b.labels = torch::full({2, 4, 2}, float(made));
        b.visual =
            torch::full({2, 4, 16, 64, 64, 3}, made + 1, torch::TensorOptions(torch::kUInt8).pinned_memory(true));
        b.visual_blank = torch::zeros({2, 4, 16}, torch::kBool);
        ++made;
        return b;
      },
      kGpu);
  for (int k = 0; k < 4; ++k) {
    auto b = batches.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(made, std::min(k + 2, 4)) << "the next batch should already be on its way";
    ASSERT_TRUE(b->visual.is_cuda() && b->labels.is_cuda() && b->visual_blank.is_cuda());
    // Work on the current stream right away: it must see the whole copy.
    EXPECT_EQ(b->visual.to(torch::kLong).sum().item<int64_t>(), int64_t(k + 1) * b->visual.numel());
    EXPECT_EQ(b->labels.sum().item<float>(), float(k) * b->labels.numel());
  }
  EXPECT_FALSE(batches.next().has_value());
}
