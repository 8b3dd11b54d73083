// Collectives over host memory for the torch-free commands (preprocessing): bytes and integers
// between ranks of the MPI world, each wait named and watched (dist/watchdog.h), so a rank that
// stopped makes the others fail with the name of the wait instead of hanging. The training path uses
// the tensor Communicator (dist/communicator.h) instead.
#pragma once
#include <string>
#include <vector>

#include "dist/process_group.h"

namespace avf::dist {

// Every rank's `mine` at rank 0, in rank order; empty on the other ranks. `what` names the wait.
std::vector<std::string> gather_at_root(const std::string& mine, const ProcessGroup& pg, const std::string& what);

// Waits until every rank has got here.
void host_barrier(const ProcessGroup& pg, const std::string& what);

// Rank 0's `value` on every rank.
int broadcast_from_root(int value, const ProcessGroup& pg, const std::string& what);

}  // namespace avf::dist
