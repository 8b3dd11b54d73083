#include "dist/host_collectives.h"

#include <mpi.h>

#include "dist/watchdog.h"

namespace avf::dist {

std::vector<std::string> gather_at_root(const std::string& mine, const ProcessGroup& pg, const std::string& what) {
  if (pg.size == 1) return {mine};
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(pg.size), displs(pg.size, 0);
  WatchedWait wait(what + " (MPI_Gather, MPI_Gatherv)");
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string all;
  if (pg.rank == 0) {
    for (int r = 1; r < pg.size; ++r) displs[r] = displs[r - 1] + lens[r - 1];
    all.resize(size_t(displs.back()) + lens.back());
  }
  MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::vector<std::string> out;
  if (pg.rank == 0)
    for (int r = 0; r < pg.size; ++r) out.push_back(all.substr(displs[r], lens[r]));
  return out;
}

void host_barrier(const ProcessGroup& pg, const std::string& what) {
  if (pg.size == 1) return;
  WatchedWait wait(what + " (MPI_Barrier)");
  MPI_Barrier(MPI_COMM_WORLD);
}

int broadcast_from_root(int value, const ProcessGroup& pg, const std::string& what) {
  if (pg.size == 1) return value;
  WatchedWait wait(what + " (MPI_Bcast)");
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value;
}

}  // namespace avf::dist
