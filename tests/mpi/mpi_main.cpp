// GoogleTest main for tests run under mpirun: MPI is initialised once for all cases, and only rank 0
// prints the progress lines (every rank still reports its own failures).
#include <gtest/gtest.h>

#include "dist/process_group.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const auto& pg = avf::dist::init_process_group();
  if (pg.rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  return RUN_ALL_TESTS();
}
