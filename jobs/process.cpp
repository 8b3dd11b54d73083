#include "jobs/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "jobs/spec.h"

namespace avf::jobs {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child after fork: exec, or report why not on stderr and exit 127.
[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
  auto args = c_argv(argv);
  execvp(args[0], args.data());
  const std::string msg = fmt::format("cannot execute '{}': {}\n", argv[0], std::strerror(errno));
  (void)!write(STDERR_FILENO, msg.data(), msg.size());
  _exit(127);
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    exec_or_die(argv);
  }
  close(fds[1]);
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, int(std::min<int64_t>(left.count(), 1000))) < 0 && errno != EINTR) break;
    if (p.revents == 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child closed its output (normally: it exited)
    result.output.append(buf, size_t(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = timed_out ? 124 : decode(status);
  if (timed_out) result.output += fmt::format("\n(killed after {:.0f} s)\n", timeout_s);
  return result;
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path, bool own_group) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int devnull = open("/dev/null", O_RDONLY);
    if (log < 0) {
      const std::string msg = fmt::format("cannot open log '{}': {}\n", log_path, std::strerror(errno));
      (void)!write(STDERR_FILENO, msg.data(), msg.size());
      _exit(127);
    }
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    dup2(devnull, STDIN_FILENO);
    // The parent's signal handlers forward signals; the child starts with the defaults.
    signal(SIGUSR1, SIG_DFL), signal(SIGUSR2, SIG_DFL), signal(SIGTERM, SIG_DFL), signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    exec_or_die(argv);
  }
  return pid;
}

int poll_process(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return decode(status);
  if (r < 0 && errno != EINTR) throw std::runtime_error(fmt::format("waitpid({}): {}", pid, std::strerror(errno)));
  return -1;
}

int signal_number(const std::string& name) {
  if (name == "USR1") return SIGUSR1;
  if (name == "USR2") return SIGUSR2;
  if (name == "INT") return SIGINT;
  return SIGTERM;
}

std::string self_executable() {
  // avf-main was started by the `avf` launcher (core/commands/launcher.cpp); start the launcher again, so
  // the new process holds the preemption signals while it loads too.
  const auto exe = std::filesystem::read_symlink("/proc/self/exe");
  const auto launcher = exe.parent_path() / "avf";
  if (exe.filename() == "avf-main" && std::filesystem::exists(launcher)) return launcher.string();
  return exe.string();
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                         "-_./=:,+%@") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : shell_quote(a));
  }
  return out;
}

}  // namespace avf::jobs
