#include "dist/preemption.h"

#include <mpi.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/base/config.h"
#include "core/base/log.h"
#include "dist/watchdog.h"

extern char** environ;

namespace avf::dist {
namespace {

// Lock-free, so setting it is async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int sig) { g_signal.store(sig, std::memory_order_relaxed); }

struct NamedSignal {
  const char* name;
  int number;
};
constexpr NamedSignal kSignals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
                                    {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"XCPU", SIGXCPU}};

std::string signal_name(int sig) {
  for (const auto& s : kSignals)
    if (s.number == sig) return s.name;
  return std::to_string(sig);
}

void trap(int sig) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in flight continue; the loop checks the flag
  if (sigaction(sig, &sa, nullptr) != 0)
    throw std::runtime_error(std::string("cannot trap ") + strsignal(sig) + ": " + std::strerror(errno));
}

}  // namespace

int signal_number(const std::string& name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
  std::string known;
  for (const auto& s : kSignals) {
    if (upper == s.name) return s.number;
    known += std::string(known.empty() ? "" : ", ") + s.name;
  }
  throw ConfigError("checkpoint.signal: unknown signal '" + name + "' (expected one of " + known + ")");
}

void install_preemption_handler(const std::string& signal_name) {
  trap(signal_number(signal_name));
  trap(SIGTERM);
  release_early_signals();
}

void release_early_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* list = std::getenv("AVF_EARLY_BLOCKED");
    if (!list) return;
    sigset_t set;
    sigemptyset(&set);
    for (const char* p = list; *p;) {
      char* end = nullptr;
      const long sig = std::strtol(p, &end, 10);
      if (end == p) break;
      if (sig > 0 && sig < NSIG) sigaddset(&set, int(sig));
      p = *end == ',' ? end + 1 : end;
    }
    // Not for the processes this one starts: they have their own launcher, or none.
    unsetenv("AVF_EARLY_BLOCKED");
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  });
}

bool stop_requested() { return stop_signal() != 0; }
int stop_signal() { return g_signal.load(std::memory_order_relaxed); }

bool agree_to_stop() {
  int local = stop_requested() ? 1 : 0;
  int any = local;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) {
    // Every rank votes at every step boundary, so a rank that stopped or died between steps leaves
    // the others here: watched like the collectives.
    WatchedWait wait("step-boundary vote on stopping (MPI_Allreduce on MPI_COMM_WORLD)");
    const int rc = MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
      char text[MPI_MAX_ERROR_STRING];
      int len = 0;
      MPI_Error_string(rc, text, &len);
      throw std::runtime_error("preemption agreement (MPI_Allreduce MAX on MPI_COMM_WORLD) failed: " +
                               std::string(text, len));
    }
  }
  if (local) {
    log::warn("received SIG{}: stopping after this step", signal_name(stop_signal()));
  } else if (any) {
    log::info("another rank received the preemption signal: stopping after this step");
  }
  return any != 0;
}

bool requeue_slurm_job() {
  const char* job = std::getenv("SLURM_JOB_ID");
  if (!job || !*job) {
    log::warn("checkpoint.requeue is set but SLURM_JOB_ID is not: not running under SLURM, nothing requeued");
    return false;
  }
  char* argv[] = {const_cast<char*>("scontrol"), const_cast<char*>("requeue"), const_cast<char*>(job), nullptr};
  pid_t pid = 0;
  if (const int err = posix_spawnp(&pid, "scontrol", nullptr, nullptr, argv, environ); err != 0) {
    log::warn("cannot run 'scontrol requeue {}': {}; the job is not requeued", job, std::strerror(err));
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      log::warn("waiting for 'scontrol requeue {}': {}", job, std::strerror(errno));
      return false;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log::warn("'scontrol requeue {}' failed ({}); the job is not requeued", job,
              WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : std::string("killed by ") + strsignal(WTERMSIG(status)));
    return false;
  }
  log::info("requeued SLURM job {}", job);
  return true;
}

}  // namespace avf::dist
