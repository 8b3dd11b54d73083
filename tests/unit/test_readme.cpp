// The README is the user's manual: its configuration table must list exactly the keys avf accepts,
// with their real defaults.
#include <gtest/gtest.h>

#include <cstdlib>
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
  if (std::getenv("AVF_UPDATE_README") && table != expected) {  // developer convenience: rewrite the table
    std::ofstream(std::string(AVF_SOURCE_DIR) + "/README.md")
        << readme.substr(0, b + begin.size()) + expected + readme.substr(e);
    return;
  }
  EXPECT_EQ(table, expected) << "run AVF_UPDATE_README=1 build/tests/test_readme to update README.md";
}
