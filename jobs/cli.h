// Argument parsing shared by `avf sweep` and `avf repro`.
#pragma once
#include <fmt/format.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/base/command_line.h"

namespace avf::jobs {

// parse_args(), then the options a command cannot do without. Checked here rather than with Boost's
// required(), which would reject `--help` before it is shown.
inline std::optional<ParsedArgs> parse_command(const CommandSpec& spec, const std::vector<std::string>& args,
                                               std::initializer_list<const char*> required) {
  auto parsed = parse_args(spec, args);
  if (parsed)
    for (const char* name : required)
      if (!parsed->vm.count(name))
        throw ConfigError(fmt::format("command line: {} is missing; usage: {}", name, spec.usage));
  return parsed;
}

}  // namespace avf::jobs
