// `avf train`: one training stage (visual, audio or fusion), data-parallel over the MPI ranks it was
// started with (one rank without mpirun).
#include <cstdio>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/subcommand.h"
#include "core/training/trainer.h"

namespace avf {

int cmd_train(const std::vector<std::string>& args) {
  CommandSpec spec{"train", "Train one stage of the model: visual (I3D), audio (Table I network) or fusion.",
                   "avf train --stage visual|audio|fusion [--config FILE] [--section.key VALUE ...]"};
  spec.takes_config = true;
  spec.aliases = {{"stage", "train.stage"}, {"resume", "checkpoint.resume"}};
  spec.options.add_options()("print-config", "print the effective configuration as INI and exit");
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  if (parsed->vm.count("print-config")) {
    std::fputs(config_to_ini(parsed->config).c_str(), stdout);
    return exit_code::ok;
  }
  return run_training(parsed->config);
}

}  // namespace avf
