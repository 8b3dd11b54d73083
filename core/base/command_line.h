// Subcommand argument parsing shared by every `avf <cmd>`: the command's own options, the config
// keys as --section.key overrides, --config FILE, --help, and errors that suggest the nearest option.
#pragma once
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/config.h"

namespace avf {

struct CommandSpec {
  CommandSpec() = default;
  CommandSpec(std::string name, std::string summary, std::string usage)
      : name(std::move(name)), summary(std::move(summary)), usage(std::move(usage)) {}

  std::string name;     // "train"
  std::string summary;  // one line for `avf help`
  std::string usage;    // "avf train [--config FILE] [--section.key VALUE ...]"
  boost::program_options::options_description options{"Options"};
  boost::program_options::positional_options_description positional;
  bool takes_config = false;  // accepts --config FILE and every config key as an override
  // Short spellings of config keys, e.g. {"stage", "train.stage"} for `avf train --stage audio`.
  std::vector<std::pair<std::string, std::string>> aliases;
};

struct ParsedArgs {
  boost::program_options::variables_map vm;
  Config config;
};

// Parses a subcommand's arguments. Returns nullopt after printing help for --help.
// Throws ConfigError (exit code 2) for unknown options, bad values and unreadable config files.
std::optional<ParsedArgs> parse_args(const CommandSpec& spec, const std::vector<std::string>& args);

std::string help_text(const CommandSpec& spec);

}  // namespace avf
