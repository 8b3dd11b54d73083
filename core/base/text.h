// The one trim, split and lower of the project: INI readers, label and manifest readers, sweep specs.
#pragma once
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace avf {

inline std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Fields between separators, each trimmed; "a,,b" gives three fields.
inline std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(sep, start);
    fields.push_back(trim(line.substr(start, end - start)));
    if (end == std::string::npos) return fields;
    start = end + 1;
  }
}

}  // namespace avf
