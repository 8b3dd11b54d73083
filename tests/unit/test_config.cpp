#include <gtest/gtest.h>

#include "core/base/config.h"
#include "run_command.h"

using avf::Config;
using avf::ConfigError;

namespace {
std::string config_error(const std::string& ini) {
  const std::string dir = make_temp_dir("avf-config");
  write_file(dir + "/run.ini", ini);
  Config c;
  try {
    avf::apply_config_file(c, dir + "/run.ini");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (size_t at; (at = msg.find(dir)) != std::string::npos;) msg.replace(at, dir.size(), "DIR");
    return msg;
  }
  return "no error";
}
}  // namespace

TEST(Config, ReadsSectionsIntoTypedFields) {
  const std::string dir = make_temp_dir("avf-config");
  write_file(dir + "/run.ini",
             "# comment\n[train]\nlr = 0.01\nbatch-size = 4\ndeterministic = false\n\n[data]\ntargets = fatigue\n"
             "[model]\nfusion = concat\n");
  Config c;
  avf::apply_config_file(c, dir + "/run.ini");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.01);
  EXPECT_EQ(c.train.batch_size, 4);
  EXPECT_FALSE(c.train.deterministic);
  EXPECT_EQ(c.data.targets, std::vector<std::string>{"fatigue"});
  EXPECT_EQ(c.model.fusion, "concat");
  EXPECT_EQ(c.train.momentum, 0.9);  // untouched keys keep the paper's defaults
}

TEST(Config, UnknownKeyNamesFileLineAndNearestKey) {
  EXPECT_EQ(config_error("[train]\nlr = 0.1\nlearning-rat = 3\n"),
            "DIR/run.ini:3: unknown key 'train.learning-rat'");  // too far from any key to suggest one
  EXPECT_EQ(config_error("[train]\nbatch-sise = 3\n"),
            "DIR/run.ini:2: unknown key 'train.batch-sise' (did you mean 'train.batch-size'?)");
}

TEST(Config, BadValuesNameKeyAndExpectation) {
  EXPECT_EQ(config_error("[train]\n\nlr = fast\n"),
            "DIR/run.ini:3: bad value for 'train.lr': 'fast' (expected a number)");
  EXPECT_EQ(config_error("[train]\nepochs = 2.5\n"),
            "DIR/run.ini:2: bad value for 'train.epochs': '2.5' (expected an integer)");
  EXPECT_EQ(config_error("[model]\nfusion = gru\n"),
            "DIR/run.ini:2: bad value for 'model.fusion': 'gru' (expected one of cross-attention, "
            "cross-attention-2stage, concat, self-attention, lstm, joint-cross-attention, "
            "recursive-joint-cross-attention, gated-recursive-joint-cross-attention, transformer)");
  EXPECT_EQ(config_error("[train]\ndeterministic = maybe\n"),
            "DIR/run.ini:2: bad value for 'train.deterministic': 'maybe' (expected true or false)");
}

TEST(Config, DuplicateKeysNameBothLines) {
  EXPECT_EQ(config_error("[train]\nlr = 0.1\nepochs = 3\nlr = 0.2\n"),
            "DIR/run.ini:4: duplicate key 'train.lr': already set at DIR/run.ini:2 (expected each key once per file)");
  // A section given twice is not a second namespace: its keys still meet the first one's.
  EXPECT_EQ(config_error("[train]\nlr = 0.1\n[data]\nstride = 16\n\n[train]\nlr = 0.2\n"),
            "DIR/run.ini:7: duplicate key 'train.lr': already set at DIR/run.ini:2 (expected each key once per file)");
  // ... but keys of a repeated section that are new are fine, as are keys in comments.
  const std::string dir = make_temp_dir("avf-config");
  write_file(dir + "/ok.ini", "[train]\nlr = 0.1\n# lr = 0.3\n[data]\nstride = 16\n[train]\nepochs = 3 # lr = 0.4\n");
  Config c;
  avf::apply_config_file(c, dir + "/ok.ini");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.1);
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_EQ(c.data.stride, 16);
}

TEST(Config, MissingFileIsAClearError) {
  Config c;
  try {
    avf::apply_config_file(c, "/nonexistent/run.ini");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "cannot open config file '/nonexistent/run.ini': No such file or directory");
  }
}

TEST(Config, IniRoundTripKeepsEveryValue) {
  Config c;
  c.train.lr = 0.0123;
  c.data.targets = {"a", "b", "c"};
  c.model.fusion = "lstm";
  c.dist.debug = true;
  const std::string ini = avf::config_to_ini(c);
  const std::string dir = make_temp_dir("avf-config");
  write_file(dir + "/rt.ini", ini);
  Config back;
  avf::apply_config_file(back, dir + "/rt.ini");
  EXPECT_EQ(avf::config_to_ini(back), ini);
  EXPECT_DOUBLE_EQ(back.train.lr, 0.0123);
}

TEST(Config, ValidateRejectsInconsistentGeometry) {
  Config c;
  c.data.sequence_frames = 100;
  EXPECT_THROW(avf::validate(c), ConfigError);
  c = Config{};
  c.checkpoint.metric = "fatigue";
  EXPECT_THROW(avf::validate(c), ConfigError);
  c.data.targets = {"fatigue"};
  EXPECT_NO_THROW(avf::validate(c));
  c.data.targets = {};  // `targets =` reads as an empty list, which no stage can train
  EXPECT_THROW(avf::validate(c), ConfigError);
}

TEST(Config, ValidateNamesTheFusionHeadKeys) {
  const auto error_of = [](void (*set)(Config&)) {
    Config c;
    set(c);
    try {
      avf::validate(c);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of([](Config& c) { c.model.recursions = 0; }).find("model.recursions (0)"), std::string::npos);
  EXPECT_NE(error_of([](Config& c) { c.model.attention_dim = -1; }).find("model.attention-dim"), std::string::npos);
  EXPECT_NE(error_of([](Config& c) { c.model.heads = 0; }).find("model.heads"), std::string::npos);
  EXPECT_NE(error_of([](Config& c) { c.model.gate_temperature = 0; }).find("model.gate-temperature"),
            std::string::npos);
}

TEST(Config, EditDistance) {
  EXPECT_EQ(avf::edit_distance("train.lr", "train.lr"), 0u);
  EXPECT_EQ(avf::edit_distance("kitten", "sitting"), 3u);
}
