// A tiny synthetic corpus from tools/make-corpus for preprocessing tests (AVEC 2016 layout).
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "run_command.h"

// subjects x seconds of 160x120 video with a 48-pixel face: small enough for tests to take seconds.
inline std::string make_test_corpus(const std::string& prefix, int subjects, int seconds,
                                    const std::string& extra = "") {
  const std::string dir = make_temp_dir(prefix) + "/corpus";
  const auto r = run_command(std::string(AVF_SOURCE_DIR) + "/tools/make-corpus --output " + dir + " --subjects " +
                             std::to_string(subjects) + " --seconds " + std::to_string(seconds) +
                             " --seed 7 --width 160 --height 120 --face-size 48 " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir;
}
