// Process exit codes, shared by every subcommand and by the job runners that interpret them.
#pragma once

namespace avf::exit_code {
constexpr int ok = 0;
constexpr int failure = 1;      // a run failed (error message on stderr)
constexpr int usage = 2;        // bad command line or configuration
constexpr int preempted = 3;    // stopped by the preemption signal after checkpointing `last`
constexpr int peer_failed = 4;  // another rank failed or a collective timed out
}  // namespace avf::exit_code
