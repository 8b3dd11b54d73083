// The preemption protocol (as submitit's): a signal asks the training loop to stop at the next step
// boundary; all ranks agree on that boundary; rank 0 saves `last`; the job is requeued under SLURM
// if asked; the process exits with exit_code::preempted. The loop owns the saving and exiting; this
// file owns the signal, the agreement and the requeue.
#pragma once
#include <string>

namespace avf::dist {

// "USR2", "SIGUSR2", "usr2" -> SIGUSR2 (also HUP, INT, QUIT, USR1, TERM, XCPU). Throws ConfigError
// naming checkpoint.signal and the accepted names.
int signal_number(const std::string& name);

// Traps SIGTERM (what scancel and the SLURM time limit send) and the named signal (checkpoint.signal;
// SLURM sends it early with --signal=B:USR2@<secs>). The handler only sets a flag. Then releases
// the signals the launcher held (below), so one that came during start-up sets the flag now.
// Call it before anything slow (MPI, the data): until then a signal would be lost or fatal.
void install_preemption_handler(const std::string& signal_name);

// The `avf` launcher (core/commands/launcher.cpp) blocks the trappable signals before the real program
// loads (about a second during which no handler can exist) and names them in AVF_EARLY_BLOCKED.
// This unblocks them once (a no-op without the launcher): a pending one is delivered now, to the
// handler if one was installed, else with its default action. Commands that trap nothing call it
// first thing.
void release_early_signals();

bool stop_requested();  // this process received a trapped signal
int stop_signal();      // which one (0 when none), for the log

// Collective over MPI_COMM_WORLD (one integer MAX all-reduce): true on every rank when any rank
// received the signal, so all stop after the same step. Every rank must call it at every step
// boundary. Without MPI initialised (a single process) it is stop_requested(). Throws
// std::runtime_error when the all-reduce fails; the job aborts (exit_code::peer_failed) when the
// vote does not complete within wait_timeout() (dist/watchdog.h).
bool agree_to_stop();

// Runs `scontrol requeue $SLURM_JOB_ID` (argv, no shell) and waits for it. Call after `last` is
// saved, when checkpoint.requeue is set. Returns true when scontrol succeeded; logs a warning and
// returns false when SLURM_JOB_ID is unset or scontrol cannot run or fails.
bool requeue_slurm_job();

}  // namespace avf::dist
