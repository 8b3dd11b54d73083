// A git-style subcommand of the `avf` executable. Each module defines the ones it owns.
#pragma once
#include <string>
#include <vector>

namespace avf {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);  // returns the process exit code
};

// Defined by each module's cmd_*.cpp; main.cpp lists them.
int cmd_train(const std::vector<std::string>& args);
int cmd_preprocess(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_extract(const std::vector<std::string>& args);
int cmd_evaluate(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);
int cmd_predict(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_inspect_any(const std::vector<std::string>& args);  // checkpoint or dataset
int cmd_sweep(const std::vector<std::string>& args);        // jobs/cmd_sweep.cpp
int cmd_repro(const std::vector<std::string>& args);        // jobs/cmd_repro.cpp

}  // namespace avf
