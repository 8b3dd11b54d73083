// Runs a shell command for tests and captures what it printed (stdout and stderr) and its exit code.
#pragma once
#include <string>

struct CommandResult {
  int exit_code;
  std::string output;
};

CommandResult run_command(const std::string& command);
// A fresh empty directory under the system temp dir ($TMPDIR), removed when the test program ends
// unless a test failed.
std::string make_temp_dir(const std::string& prefix);
void write_file(const std::string& path, const std::string& text);
