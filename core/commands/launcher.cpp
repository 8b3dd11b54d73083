// `avf`: the executable users and launchers (mpirun, srun, the sweep runner) start. It links no
// library besides libc, blocks the signals a trainer may trap for preemption, and becomes the real
// program `avf-main` (next to it) with execv: the same process, the same pid.
//
// Why: loading avf-main (relocating and initialising libtorch, OpenCV, MPI, HDF5) takes about a
// second before main() runs, longer on a busy node, and no handler can exist during that time. A
// preemption signal then would kill the process with nothing saved. Blocked signals stay pending
// across execv; avf-main installs its handlers and then unblocks them (dist/preemption.h,
// release_early_signals), so a signal at any instant after this launcher's first instructions
// reaches the trainer's handler. Commands that trap nothing unblock them first thing and behave as
// if the signal had come a moment later.
//
// AVF_EARLY_BLOCKED tells avf-main which signals this launcher blocked (those not blocked already
// by whoever started it), as signal numbers separated by commas.
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int, char** argv) {
  // The signals `checkpoint.signal` may name (dist/preemption.cpp) and SIGTERM, always trapped.
  const int trappable[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGXCPU};
  sigset_t block, old;
  sigemptyset(&block);
  for (int s : trappable) sigaddset(&block, s);
  sigprocmask(SIG_BLOCK, &block, &old);
  std::string blocked;
  for (int s : trappable)
    if (!sigismember(&old, s)) blocked += (blocked.empty() ? "" : ",") + std::to_string(s);
  setenv("AVF_EARLY_BLOCKED", blocked.c_str(), 1);

  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string program = "avf-main";
  if (n > 0) {
    std::string path(self, size_t(n));
    program = path.substr(0, path.rfind('/') + 1) + program;
  }
  execv(program.c_str(), argv);
  const int err = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  std::fprintf(stderr, "avf: cannot execute %s: %s\n", program.c_str(), std::strerror(err));
  return 1;
}
