// Prints the configuration reference table (every key, its default and meaning) in Markdown, as
// generated from the schema; tools/update-config-table puts it into the docs, and
// tests/unit/test_readme.cpp checks the docs hold exactly this.
#include <cstdio>

#include "core/base/config.h"

int main() {
  avf::Config config;
  std::fputs(avf::ConfigSchema(config).to_markdown().c_str(), stdout);
}
