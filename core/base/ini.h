// INI text as Boost.Program_options reads it ('#' starts a comment anywhere on a line, "[section]"
// prefixes the keys after it), scanned for what Boost does not say: the line of each key, and keys
// given twice. Boost keeps the last of two equal keys silently, also across a repeated section; the
// configuration and sweep-spec readers refuse them instead.
#pragma once
#include <map>
#include <string>

namespace avf {

// The line (1-based) of every "section.key" in `text`. A key given twice throws ConfigError (core/base/config.h) naming
// both places: "run.ini:7: duplicate key 'train.lr': already set at run.ini:2 (expected each key
// once per file)"; `name` is the source named in it.
std::map<std::string, int> ini_key_lines(const std::string& text, const std::string& name);

}  // namespace avf
