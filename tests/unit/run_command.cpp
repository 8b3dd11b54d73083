#include "run_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

CommandResult run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

namespace {
// The directories make_temp_dir made, removed when the test program ends without a failed test (as
// the shell tests do: a failure keeps its directory to look at). Only by the process that made them:
// a death test's or fork()'s child exits through the same destructors while its parent still needs
// them.
class TempDirs {
 public:
  void add(const std::string& dir) { dirs_.push_back(dir); }
  ~TempDirs() {
    if (getpid() != owner_ || ::testing::UnitTest::GetInstance()->Failed()) return;
    std::error_code ignored;
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir, ignored);
  }

 private:
  pid_t owner_ = getpid();
  std::vector<std::string> dirs_;
};
}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  static TempDirs made;
  std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + ("/" + prefix + "-XXXXXX");
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  made.add(tmpl);
  return tmpl;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
