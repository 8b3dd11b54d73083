// The configuration reference (docs/configuration.md, linked from the README) must list exactly the keys
// avf accepts, with their real defaults; and the README's links into docs/ must lead somewhere.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/base/config.h"

TEST(Readme, ConfigTableMatchesSchema) {
  std::ifstream in(std::string(AVF_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string begin =
      "<!-- config-table: generated from the schema; tests/unit/test_readme.cpp checks it is current -->\n";
  const auto b = readme.find(begin);
  const auto e = readme.find("<!-- end config-table -->");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string table = readme.substr(b + begin.size(), e - b - begin.size());
  avf::Config config;
  const std::string expected = avf::ConfigSchema(config).to_markdown();
  // The test only reads: tools/update-config-table rewrites the table.
  EXPECT_EQ(table, expected) << "run tools/update-config-table to update docs/configuration.md";
}

// Every relative link of the README and of docs/*.md names an existing file (anchors are not checked).
TEST(Readme, RelativeLinksLeadToFiles) {
  namespace fs = std::filesystem;
  const fs::path root(AVF_SOURCE_DIR);
  std::vector<fs::path> pages{root / "README.md"};
  for (const auto& e : fs::directory_iterator(root / "docs"))
    if (e.path().extension() == ".md") pages.push_back(e.path());
  const std::regex link(R"(\]\(([^)#:]+)(#[^)]*)?\))");
  int checked = 0;
  for (const auto& page : pages) {
    std::ifstream in(page);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it, ++checked)
      EXPECT_TRUE(fs::exists(page.parent_path() / (*it)[1].str())) << page << " links to missing " << (*it)[1];
  }
  EXPECT_GT(checked, 10);
}
