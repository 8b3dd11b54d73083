#include "dist/process_group.h"

#include "core/base/exit_codes.h"
#include "core/base/log.h"
#include "dist/watchdog.h"

#include <fmt/format.h>
#include <mpi.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace avf::dist {
namespace {
ProcessGroup g_world;
std::atomic<bool> g_initialised{false};  // read by the watchdog thread
std::atomic<bool> g_aborting{false};

// Where MPI cannot abort the job (inside MPI_Init_thread, MPI_Finalize), a wait that times out
// ends this process; the launcher then ends the others.
void exit_now(const std::string& message) {
  log::error("{}", message);
  std::_Exit(exit_code::peer_failed);
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // MPI_Finalize synchronises with every rank: a rank stopped at the end would hold the others.
  WatchedWait wait("shut-down (MPI_Finalize)", wait_timeout(), exit_now);
  MPI_Finalize();
}

std::string detect_launcher() {
  if (std::getenv("SLURM_STEP_ID") && std::getenv("PMIX_RANK")) return "srun";
  if (std::getenv("OMPI_COMM_WORLD_SIZE")) return "mpirun";
  if (std::getenv("SLURM_JOB_ID")) return "slurm";
  return "none";
}
}  // namespace

const ProcessGroup& init_process_group() {
  if (g_initialised) return g_world;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    int rc = MPI_SUCCESS;
    {
      // MPI_Init_thread waits for every rank of the job (the launcher's fence). The watchdog's
      // thread is started here, before it, since nothing inside the call could time it out.
      WatchedWait wait("start-up (MPI_Init_thread, which waits for every rank to start)", wait_timeout(), exit_now);
      rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    }
    if (rc != MPI_SUCCESS) throw std::runtime_error("MPI_Init_thread failed");
    std::atexit(finalize_mpi);
  }
  // Errors come back as codes so that a failing collective becomes a clear message, not an abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
  {
    WatchedWait wait("start-up (MPI_Comm_split_type and the node count all-reduce)");
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &g_world.local_rank);
    MPI_Comm_size(local, &g_world.local_size);
    // Count nodes: one leader (local rank 0) per node.
    int leader = g_world.local_rank == 0 ? 1 : 0;
    MPI_Allreduce(&leader, &g_world.nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Comm_free(&local);
  }
  g_world.launcher = detect_launcher();
  g_initialised = true;
  log::init(g_world.rank, g_world.size, /*all_ranks=*/false);  // commands widen this with log.all-ranks
  return g_world;
}

const ProcessGroup* world_if_known() { return g_initialised ? &g_world : nullptr; }

int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    const char* v = std::getenv(name);
    char* end = nullptr;
    const long r = v ? std::strtol(v, &end, 10) : -1;
    if (v && *v && *end == '\0' && r >= 0) return int(r);
  }
  return -1;
}

const ProcessGroup& world() {
  if (!g_initialised) throw std::logic_error("avf::dist::world() called before init_process_group()");
  return g_world;
}

std::string describe(const ProcessGroup& pg) {
  return fmt::format("rank {}/{} (local {}/{}, {} node{}, launched by {})", pg.rank, pg.size, pg.local_rank,
                     pg.local_size, pg.nodes, pg.nodes == 1 ? "" : "s", pg.launcher);
}

void abort_job(int code, const std::string& message) {
  g_aborting = true;
  log::error("{}", message);
  int initialised = 0, finalized = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalized);
  if (initialised && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

bool job_aborting() { return g_aborting; }

void fail_fast_if_distributed(int code, const std::string& message) {
  if (g_initialised && g_world.size > 1) abort_job(code, fmt::format("rank {} failed: {}", g_world.rank, message));
}

}  // namespace avf::dist
