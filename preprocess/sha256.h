// SHA-256 (OpenSSL) of files and strings, as lowercase hex.
#pragma once
#include <string>

namespace avf::pre {

std::string sha256_file(const std::string& path);  // throws std::runtime_error naming the file
std::string sha256_text(const std::string& text);

}  // namespace avf::pre
