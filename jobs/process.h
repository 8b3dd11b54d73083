// Child processes without a shell: argv vectors go straight to execvp, so no value (a parameter, a
// path) is ever parsed by a shell. Every wait is bounded.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace avf::jobs {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed; 124 on timeout; 127 when it could not be started
  std::string output;  // stdout and stderr together
};

// Runs argv to completion, at most timeout_s seconds (then SIGKILL and exit code 124).
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s);

// Starts argv with stdout and stderr appended to log_path (nothing is read from stdin). Throws
// std::runtime_error when fork fails; a program that cannot be executed exits 127, with the reason
// in the log. With `own_group` the child leads a new process group, so a Ctrl-C on the terminal
// reaches only the parent, which decides what the child gets.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path, bool own_group = false);

// Non-blocking: the exit code (128 + signal when killed) once `pid` ended, else -1.
int poll_process(pid_t pid);

// USR1 | USR2 | INT | TERM (the names checkpoint.signal takes) to the signal number; TERM otherwise.
int signal_number(const std::string& name);

// This executable's path (/proc/self/exe; the `avf` launcher beside it when this is avf-main), so
// `avf` can start itself for trial wrappers.
std::string self_executable();

std::string join_command(const std::vector<std::string>& argv);  // shell-quoted, for logs and messages

}  // namespace avf::jobs
