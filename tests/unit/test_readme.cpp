// The README is the user's manual: its configuration table must list exactly the keys avf accepts,
// with their real defaults.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/config.h"

TEST(Readme, ConfigTableMatchesSchema) {
  std::ifstream in(std::string(AVF_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string begin = "<!-- config-table: generated from the schema; tests/unit/test_readme.cpp checks it is current -->\n";
  const auto b = readme.find(begin);
  const auto e = readme.find("<!-- end config-table -->");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string table = readme.substr(b + begin.size(), e - b - begin.size());
  avf::Config config;
  const std::string expected = avf::ConfigSchema(config).to_markdown();
  // The test only reads: tools/update-config-table rewrites the table.
  EXPECT_EQ(table, expected) << "run tools/update-config-table to update README.md";
}
