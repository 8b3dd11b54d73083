// Label readers: AVEC 2016 ARFF and CSV parse strictly, every kind of bad line is reported with
// file:line and what was expected, and alignment to the frame grid fills gaps with NaN.
#include <gtest/gtest.h>

#include <cmath>

#include "preprocess/labels.h"
#include "run_command.h"

using namespace avf::pre;

namespace {

const std::string kArffHead =
    "@relation GOLDSTANDARD\n\n@attribute Instance_name string\n@attribute frameTime numeric\n"
    "@attribute GoldStandard numeric\n\n@data\n\n";  // the data starts on line 9

std::string write_temp(const std::string& name, const std::string& text) {
  static const std::string dir = make_temp_dir("avf-labels");
  write_file(dir + "/" + name, text);
  return dir + "/" + name;
}

// The message a reader's LabelError gives for `text` written to `name`, from the file name on
// ("bad.arff:9: ..."), or "no error".
template <class Read>
std::string label_error(const std::string& name, const std::string& text, Read read) {
  const std::string path = write_temp(name, text);
  try {
    read(path);
  } catch (const LabelError& e) {
    const std::string msg = e.what();
    return msg.substr(msg.rfind('/') + 1);
  }
  return "no error";
}
std::string arff_error(const std::string& text) {
  return label_error("bad.arff", text, [](const std::string& p) { read_arff(p, "arousal"); });
}
std::string csv_error(const std::string& text) {
  return label_error("bad.csv", text, [](const std::string& p) { read_label_csv(p, "time"); });
}
std::string affwild2_error(const std::string& text) {
  return label_error("bad.txt", text, [](const std::string& p) { read_affwild2_labels(p); });
}

}  // namespace

TEST(Arff, ReadsAvecGoldStandardWithMissingValues) {
  const auto s = read_arff(write_temp("a.arff", kArffHead + "train_1,0.000000,0.25\ntrain_1,0.040000,?\n"
                                                            "% a comment\ntrain_1,0.080000,-0.5\n"),
                           "arousal");
  ASSERT_EQ(s.names, std::vector<std::string>{"arousal"});
  ASSERT_EQ(s.times.size(), 3u);
  EXPECT_DOUBLE_EQ(s.times[2], 0.08);
  EXPECT_FLOAT_EQ(s.values[0], 0.25f);
  EXPECT_TRUE(std::isnan(s.values[1]));
  EXPECT_FLOAT_EQ(s.values[2], -0.5f);
}

TEST(Arff, EachBadLineNamesFileLineAndExpectation) {
  EXPECT_EQ(arff_error(kArffHead + "train_1,0.0\n"),
            "bad.arff:9: expected 3 fields (Instance_name,frameTime,GoldStandard), got 2");
  EXPECT_EQ(arff_error(kArffHead + "train_1,zero,0.1\n"), "bad.arff:9: frameTime 'zero' is not a number");
  EXPECT_EQ(arff_error(kArffHead + "train_1,0.0,0.1\ntrain_1,0.04,high\n"),
            "bad.arff:10: GoldStandard 'high' is not a number (write ? for a missing value)");
  EXPECT_EQ(arff_error(kArffHead + "train_1,0.04,0.1\ntrain_1,0.04,0.2\n"),
            "bad.arff:10: frameTime 0.04 is not after the previous row's 0.04");
  EXPECT_EQ(arff_error(kArffHead + "train_1,-0.04,0.1\n"), "bad.arff:9: frameTime -0.04 is negative");
  EXPECT_EQ(arff_error("@relation X\n@attribute name string\n"),
            "bad.arff:2: unexpected attribute 'name'; expected Instance_name, frameTime, GoldStandard in this order");
  EXPECT_EQ(arff_error("@relation X\n@attribute Instance_name numeric\n"),
            "bad.arff:2: attribute Instance_name has type 'numeric'; expected string");
  EXPECT_EQ(arff_error("@relation X\n@attribute Instance_name string\n@data\n"),
            "bad.arff:3: @data after 1 attributes; expected Instance_name, frameTime, GoldStandard");
  EXPECT_EQ(arff_error("train_1,0,0\n"),
            "bad.arff:1: unexpected 'train_1,0,0'; expected @relation, @attribute or @data");
  EXPECT_EQ(arff_error("@attribute Instance_name string\n"), "bad.arff:1: @attribute before @relation");
  EXPECT_EQ(arff_error("@relation X\n"), "bad.arff: no @data section; expected an AVEC 2016 gold-standard ARFF file");
  EXPECT_EQ(arff_error(kArffHead), "bad.arff: no data rows after @data");
}

TEST(Arff, MissingFileIsNamed) {
  EXPECT_THROW(
      {
        try {
          read_arff("/nonexistent/x.arff", "valence");
        } catch (const LabelError& e) {
          EXPECT_STREQ(e.what(), "/nonexistent/x.arff: cannot open label file");
          throw;
        }
      },
      LabelError);
}

TEST(Csv, ReadsTargetsInAnyOrderWithSemicolonsAndMissingValues) {
  const auto s = read_label_csv(write_temp("l.csv", "valence;time;arousal\n0.1;0.00;0.3\n;0.04;NaN\n-0.2;0.08;?\n"));
  EXPECT_EQ(s.names, (std::vector<std::string>{"valence", "arousal"}));
  ASSERT_EQ(s.times.size(), 3u);
  EXPECT_FLOAT_EQ(s.values[0], 0.1f);
  EXPECT_FLOAT_EQ(s.values[1], 0.3f);
  EXPECT_TRUE(std::isnan(s.values[2]) && std::isnan(s.values[3]) && std::isnan(s.values[5]));
  EXPECT_FLOAT_EQ(s.values[4], -0.2f);
}

TEST(Csv, EachBadLineNamesFileLineAndExpectation) {
  EXPECT_EQ(csv_error("t,valence\n0,1\n"), "bad.csv:1: no time column 'time' in the header 't,valence'");
  EXPECT_EQ(csv_error("time\n0\n"), "bad.csv:1: no target column besides 'time'");
  EXPECT_EQ(csv_error("time,valence\n0,1\n0.04\n"), "bad.csv:3: expected 2 fields like the header, got 1");
  EXPECT_EQ(csv_error("time,valence\nx,1\n"), "bad.csv:2: time 'x' is not a number");
  EXPECT_EQ(csv_error("time,valence\n0,1\n0.04,1e\n"),
            "bad.csv:3: valence '1e' is not a number (write ? for a missing value)");
  EXPECT_EQ(csv_error("time,valence\n0.04,1\n0.0,1\n"), "bad.csv:3: time 0.0 is not after the previous row's 0.04");
  EXPECT_EQ(csv_error("time,valence\n"), "bad.csv: no data rows after the header");
  EXPECT_EQ(csv_error(""), "bad.csv: empty label file; expected a header line");
}

TEST(Align, MapsToFramesAveragesDenseLabelsAndLeavesGapsNaN) {
  LabelSeries s;
  s.names = {"a"};
  s.times = {0.0, 0.01, 0.04, 0.12, 0.5};  // 0.5 s lies beyond 4 frames at 25 fps
  s.values = {1.0f, 3.0f, 5.0f, 7.0f, 9.0f};
  const auto out = align_to_frames(s, 25.0, 4);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FLOAT_EQ(out[0], 2.0f);  // 0.00 and 0.01 both round to frame 0
  EXPECT_FLOAT_EQ(out[1], 5.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_FLOAT_EQ(out[3], 7.0f);
}

TEST(AffWild2Labels, OneLinePerFrameAndMinusFiveIsNaNForThatTargetOnly) {
  // CRLF line ends, spaces after the commas and trailing empty lines, as files edited on Windows have.
  const auto l = read_affwild2_labels(
      write_temp("v.txt", "valence, arousal\r\n0.25,-0.5\r\n-5,0.125\r\n0.5, -5\r\n-5,-5\r\n1,-1\r\n-0.0,0\r\n\r\n\n"));
  EXPECT_EQ(l.names, (std::vector<std::string>{"valence", "arousal"}));
  ASSERT_EQ(l.frames(), 6);
  ASSERT_EQ(l.values.size(), 12u);
  EXPECT_FLOAT_EQ(l.values[0], 0.25f);
  EXPECT_FLOAT_EQ(l.values[1], -0.5f);
  EXPECT_TRUE(std::isnan(l.values[2]));  // -5 in the valence column: valence unknown ...
  EXPECT_FLOAT_EQ(l.values[3], 0.125f);  // ... arousal kept
  EXPECT_FLOAT_EQ(l.values[4], 0.5f);
  EXPECT_TRUE(std::isnan(l.values[5]));
  EXPECT_TRUE(std::isnan(l.values[6]) && std::isnan(l.values[7]));
  EXPECT_FLOAT_EQ(l.values[8], 1.0f);  // the range's ends are values
  EXPECT_FLOAT_EQ(l.values[9], -1.0f);
  EXPECT_FLOAT_EQ(l.values[10], 0.0f);
  // No value but -5 itself stands for a missing label.
  for (float v : l.values) EXPECT_NE(v, -5.0f);
}

TEST(AffWild2Labels, EachBadLineNamesFileLineAndExpectation) {
  EXPECT_EQ(affwild2_error("arousal,valence\n0,0\n"), "bad.txt:1: header 'arousal,valence'; expected valence,arousal");
  EXPECT_EQ(affwild2_error("0.1,0.2\n0.3,0.4\n"), "bad.txt:1: header '0.1,0.2'; expected valence,arousal");
  EXPECT_EQ(affwild2_error("valence,arousal,expression\n0,0,1\n"),
            "bad.txt:1: header 'valence,arousal,expression'; expected valence,arousal");
  EXPECT_EQ(affwild2_error("valence,arousal\n0.1,0.2\n0.3\n"), "bad.txt:3: expected 2 fields (valence,arousal), got 1");
  EXPECT_EQ(affwild2_error("valence,arousal\n0.1,0.2,0.3\n"), "bad.txt:2: expected 2 fields (valence,arousal), got 3");
  EXPECT_EQ(affwild2_error("valence,arousal\n0.1;0.2\n"), "bad.txt:2: expected 2 fields (valence,arousal), got 1");
  EXPECT_EQ(affwild2_error("valence,arousal\n0.1,0.2\n0.1,high\n"),
            "bad.txt:3: arousal 'high' is not a number; expected a value in [-1, 1], or -5 for no label");
  EXPECT_EQ(affwild2_error("valence,arousal\n,0.2\n"),
            "bad.txt:2: valence '' is not a number; expected a value in [-1, 1], or -5 for no label");
  EXPECT_EQ(affwild2_error("valence,arousal\nnan,0.2\n"),
            "bad.txt:2: valence 'nan' is not a number; expected a value in [-1, 1], or -5 for no label");
  EXPECT_EQ(affwild2_error("valence,arousal\n1.5,0\n"),
            "bad.txt:2: valence 1.5 is outside [-1, 1]; expected a value in [-1, 1], or -5 for no label");
  EXPECT_EQ(affwild2_error("valence,arousal\n0,-4\n"),
            "bad.txt:2: arousal -4 is outside [-1, 1]; expected a value in [-1, 1], or -5 for no label");
  EXPECT_EQ(affwild2_error("valence,arousal\n0,0\n\n0,0\n"),
            "bad.txt:4: a frame after an empty line; expected one line per video frame, empty lines only at the end");
  EXPECT_EQ(affwild2_error(""), "bad.txt: empty annotation file; expected the header valence,arousal");
  EXPECT_EQ(affwild2_error("valence,arousal\n\n"), "bad.txt: no frame lines after the header valence,arousal");
  EXPECT_THROW(read_affwild2_labels("/nonexistent/v.txt"), LabelError);
}
