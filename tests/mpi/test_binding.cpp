#include <gtest/gtest.h>
#include <sched.h>
#include <torch/torch.h>

#include "dist/binding.h"
#include "dist/communicator.h"
#include "dist/process_group.h"

using namespace avf::dist;

TEST(Binding, EachLocalRankGetsItsOwnCores) {
  const auto& pg = world();
  const auto b = bind_local_rank(pg.local_rank, pg.local_size, "core");
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int ncpu = CPU_COUNT(&set);
  EXPECT_GE(ncpu, 1);
  EXPECT_NE(b.description.find("bound to PUs"), std::string::npos) << b.description;
  // The ranks' CPU sets must not overlap (this machine has at least as many cores as ranks).
  auto mask = torch::zeros({CPU_SETSIZE}, torch::kInt);
  for (int c = 0; c < CPU_SETSIZE; ++c) mask[c] = CPU_ISSET(c, &set) ? 1 : 0;
  auto comm = make_communicator({"mpi", 60, false}, torch::kCPU);
  comm->allreduce(mask, ReduceOp::sum, "cpu sets")->wait();
  EXPECT_LE(mask.max().item<int>(), 1) << "two ranks bound to the same CPU";
}
