#include "core/base/ini.h"

#include "core/base/config.h"
#include "core/base/text.h"

#include <fmt/format.h>

#include <sstream>

namespace avf {
namespace {}  // namespace

std::map<std::string, int> ini_key_lines(const std::string& text, const std::string& name) {
  std::map<std::string, int> line_of;
  std::istringstream in(text);
  std::string line, prefix;
  for (int n = 1; std::getline(in, line); ++n) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty() || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      prefix = trim(line.substr(1, line.size() - 2));
      if (!prefix.empty() && prefix.back() != '.') prefix += '.';  // as Boost joins section and key
    } else if (const auto eq = line.find('='); eq != std::string::npos) {
      const auto [first, fresh] = line_of.emplace(prefix + trim(line.substr(0, eq)), n);
      if (!fresh)
        throw ConfigError(
            fmt::format("{}:{}: duplicate key '{}': already set at {}:{} (expected each key once per file)", name, n,
                        first->first, name, first->second));
    }
  }
  return line_of;
}

}  // namespace avf
