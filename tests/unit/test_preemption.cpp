// The preemption signal handler and the SLURM requeue. Each signal test runs in a forked child (a
// death test) so that one test's flag cannot leak into another's.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "core/base/config.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/training/checkpoint_store.h"
#include "dist/preemption.h"
#include "run_command.h"

using namespace avf;
using namespace avf::dist;

namespace {

// Exit code 0 when trapping `configured` makes raise(`sent`) set the flag (and nothing was set before).
int flag_after_raise(const char* configured, int sent) {
  install_preemption_handler(configured);
  if (stop_requested() || agree_to_stop()) return 1;
  std::raise(sent);
  return stop_requested() && stop_signal() == sent && agree_to_stop() ? 0 : 2;
}

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A fake `scontrol` first on PATH that records its arguments, one per line, and exits with `status`.
std::string fake_scontrol(const std::string& dir, int status) {
  const std::string script = dir + "/scontrol";
  write_file_atomic(script, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > " + dir + "/args\nexit " +
                                std::to_string(status) + "\n");
  chmod(script.c_str(), 0755);
  return dir + ":" + std::getenv("PATH");
}

}  // namespace

TEST(Preemption, SignalNames) {
  EXPECT_EQ(signal_number("USR2"), SIGUSR2);
  EXPECT_EQ(signal_number("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(signal_number("term"), SIGTERM);
  try {
    signal_number("USR3");
    FAIL();
  } catch (const avf::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "checkpoint.signal: unknown signal 'USR3' (expected one of HUP, INT, QUIT, USR1, USR2, TERM, XCPU)");
  }
}

TEST(Preemption, Usr2SetsTheFlag) {
  EXPECT_EXIT(std::exit(flag_after_raise("USR2", SIGUSR2)), testing::ExitedWithCode(0), "");
}

TEST(Preemption, ConfiguredSignalIsHonoured) {
  EXPECT_EXIT(std::exit(flag_after_raise("SIGUSR1", SIGUSR1)), testing::ExitedWithCode(0), "");
}

// Untrapped, SIGTERM would kill the child and the exit code would not be 0.
TEST(Preemption, SigtermIsAlwaysTrapped) {
  EXPECT_EXIT(std::exit(flag_after_raise("USR2", SIGTERM)), testing::ExitedWithCode(0), "");
}

TEST(Preemption, RequeuePassesJobIdAsOneArgumentWithoutAShell) {
  const std::string dir = make_temp_dir("avf-requeue");
  ScopedEnv path("PATH", fake_scontrol(dir, 0));
  ScopedEnv job("SLURM_JOB_ID", "42; touch " + dir + "/injected");
  EXPECT_TRUE(requeue_slurm_job());
  EXPECT_EQ(read_file(dir + "/args"), "requeue\n42; touch " + dir + "/injected\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/injected"));
}

TEST(Preemption, RequeueReportsFailure) {
  const std::string dir = make_temp_dir("avf-requeue");
  ScopedEnv path("PATH", fake_scontrol(dir, 1));
  ScopedEnv job("SLURM_JOB_ID", "42");
  testing::internal::CaptureStderr();
  EXPECT_FALSE(requeue_slurm_job());
  EXPECT_NE(testing::internal::GetCapturedStderr().find("'scontrol requeue 42' failed (exit status 1)"),
            std::string::npos);
}

TEST(Preemption, RequeueOutsideSlurmDoesNothing) {
  ScopedEnv job("SLURM_JOB_ID", "");
  testing::internal::CaptureStderr();
  EXPECT_FALSE(requeue_slurm_job());
  EXPECT_NE(testing::internal::GetCapturedStderr().find("SLURM_JOB_ID is not"), std::string::npos);
}

// The whole protocol in the real trainer (a signal while steps run, `last` saved at the next step
// boundary, exit 3, resume to the uninterrupted run's weights) is tested on `avf train` itself:
// tests/slurm/preempt_trainer.sh (e2e.preempt_trainer), resume_bitexact_{1,2}rank and slurm.preempt.
