// The MPI world this process belongs to, whether started by mpirun, `srun --mpi=pmix` or alone
// (then it is a world of one). Torch-free: preprocessing and jobs use it too.
#pragma once
#include <string>

namespace avf::dist {

struct ProcessGroup {
  int rank = 0;
  int size = 1;
  int local_rank = 0;  // rank among the processes on this node (MPI_Comm_split_type SHARED)
  int local_size = 1;
  int nodes = 1;
  std::string launcher;  // "mpirun", "srun" or "none", for reporting only
};

// Initialises MPI once (MPI_THREAD_MULTIPLE where available, since the reducer calls MPI from
// autograd threads) and registers MPI_Finalize at exit. Safe to call more than once. Start-up and
// the MPI_Finalize at exit wait for every rank, so both are watched (dist/watchdog.h) with
// wait_timeout(): set the job's dist.timeout with set_wait_timeout() before calling this.
const ProcessGroup& init_process_group();
const ProcessGroup& world();           // after init_process_group()
const ProcessGroup* world_if_known();  // nullptr before init_process_group()
// This process's rank as the launcher announced it (OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID),
// known before MPI is; -1 when there is none.
int launcher_rank();
std::string describe(const ProcessGroup& pg);  // "rank 0/2 (local 0/2, 1 node, launched by mpirun)"

// Ends every rank of the job: logs `message` on this rank, then MPI_Abort(code) so the other ranks
// do not wait forever in a collective this rank will never join. Without MPI it just exits.
[[noreturn]] void abort_job(int code, const std::string& message);
// True once abort_job() was called in this process: its other threads must not go on working.
bool job_aborting();

// For a rank that failed with `message`: in a multi-rank job, aborts the whole job naming the rank;
// otherwise returns so the caller can exit normally with its code.
void fail_fast_if_distributed(int code, const std::string& message);

}  // namespace avf::dist
