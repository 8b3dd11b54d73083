// The one watchdog over every blocking wait on other ranks: start-up (MPI_Init_thread included),
// collectives, the step-boundary vote, barriers, gathers, shut-down. A wait registers what it waits
// for and when it began before it blocks and unregisters when it returns; one still registered after
// its timeout (dist.timeout) ends the whole job with exit_code::peer_failed and one line naming this
// rank, the wait and the timeout. A rank that stops, hangs or dies therefore never leaves the others
// waiting forever: whichever rank is left waiting aborts the job.
//
// The checks run on a thread of their own, started by the first wait. It is a plain thread that
// needs nothing from MPI, which is why it can watch MPI_Init_thread itself (from the inside of a
// blocking call nothing else could). Torch-free: preprocessing uses it too.
//
// Test hook, read once from the environment: AVF_TEST_STOP_AT=<prefix>:<rank> makes that rank stop
// itself (SIGSTOP) as it begins the first wait whose name starts with <prefix>, e.g.
// `AVF_TEST_STOP_AT=step-boundary vote:1`, so tests can freeze a rank at a precise point and check
// that the others end the job naming that wait. Unset, it costs one branch per wait.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace avf::dist {

// The timeout of waits where no dist.timeout was configured (e.g. before the configuration is
// known): $AVF_DIST_TIMEOUT seconds when set to a positive number, else 600.
double default_wait_timeout();

// The timeout WatchedWait uses: the job's dist.timeout once set (commands set it from their
// configuration before their first wait), default_wait_timeout() before.
void set_wait_timeout(double seconds);
double wait_timeout();

// What a wait that timed out does with its message; the default logs it and aborts the job
// (abort_job(exit_code::peer_failed, message): MPI_Abort, or _Exit where MPI is not running).
using OnTimeout = std::function<void(const std::string& message)>;

class Watchdog {
 public:
  static Watchdog& instance();  // process-wide; never destroyed, so usable until the last instant

  // Registers a wait beginning now. `what` names what is waited for, as the message will show it:
  // "collective 'gradient bucket 0' (#12)", "step-boundary vote (MPI_Allreduce on MPI_COMM_WORLD)".
  // Returns an id for end(). May stop the process here (the test hook above).
  uint64_t begin(std::string what, double timeout_s, OnTimeout on_timeout = {});
  // Once the job is aborting (job_aborting()), end() does not return: a wait that completes then
  // must not let its thread go on working for a job declared failed.
  void end(uint64_t id);

  // A check the watchdog thread runs every `period_s` (NCCL polls its asynchronous errors); it must
  // not block. After remove_poll(id) returns, the check is not running and never runs again.
  uint64_t add_poll(std::function<void()> poll, double period_s);
  void remove_poll(uint64_t id);

  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  Watchdog();
  void run();
  struct Impl;
  Impl* impl_;
};

// Registers `what` with the watchdog for the lifetime of the object (one blocking wait).
class WatchedWait {
 public:
  explicit WatchedWait(std::string what, double timeout_s = wait_timeout(), OnTimeout on_timeout = {});
  ~WatchedWait();
  WatchedWait(const WatchedWait&) = delete;
  WatchedWait& operator=(const WatchedWait&) = delete;

 private:
  uint64_t id_;
};

// "rank 3" in messages: the MPI rank once the world is known, before that the launcher's
// (OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID), "rank ?" without either.
std::string this_rank();

}  // namespace avf::dist
