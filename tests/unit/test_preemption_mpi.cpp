// Two ranks; only rank 1 receives the preemption signal; both must agree to stop at the same step.
#include <gtest/gtest.h>

#include <csignal>

#include "dist/preemption.h"
#include "dist/process_group.h"

using namespace avf::dist;

TEST(PreemptionMpi, RanksAgreeWhenOnlyOneReceivedTheSignal) {
  const ProcessGroup& pg = init_process_group();
  ASSERT_EQ(pg.size, 2) << "run with mpirun -np 2";
  install_preemption_handler("USR2");
  EXPECT_FALSE(agree_to_stop());  // step 1: nobody was signalled
  if (pg.rank == 1) std::raise(SIGUSR2);
  EXPECT_EQ(stop_requested(), pg.rank == 1);
  EXPECT_TRUE(agree_to_stop());  // step 2: everyone stops here
}
