// `avf preprocess` and `avf inspect` as users meet them: bad inputs get clear messages while the
// other videos complete, a run killed with SIGKILL resumes to identical shards, inspect verifies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "corpus.h"
#include "preprocess/sha256.h"
#include "run_command.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string avf_bin = AVF_BIN;

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::map<std::string, std::string> shard_hashes(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = avf::pre::sha256_file(e.path().string());
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(PreprocessCli, BadInputsFailWithClearMessagesWhileTheOthersComplete) {
  const std::string c = make_test_corpus("avf-bad", 7, 3, "--container avi");
  const std::string v = c + "/recordings_video/", a = c + "/recordings_audio/";
  const auto r0 = run_command(
      "set -e; head -c 150000 " + v + "train_1.avi > " + v + "t && mv " + v + "t " + v + "train_1.avi; " +  // truncated
      "echo 'not a video' > " + v + "train_2.avi; " +
      "head -c 44 " + a + "train_3.wav > " + a + "t && mv " + a + "t " + a + "train_3.wav; " +  // header, no samples
      "sed -i '12s/.*/train_4,0.120000,oops/' " + c + "/ratings_gold_standard/arousal/train_4.arff; " +
      "sox " + a + "dev_1.wav " + a + "t.wav trim 0 1 && mv " + a + "t.wav " + a + "dev_1.wav; " +
      "ffmpeg -loglevel error -y -f lavfi -i color=c=gray:s=160x120:d=3:r=25 -c:v mjpeg " + v + "dev_2.avi");
  ASSERT_EQ(r0.exit_code, 0) << r0.output;
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  const auto r = run_command(avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 32 --progress off");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_1: " + v + "train_1.avi: truncated video: decoded ")) << r.output;
  EXPECT_TRUE(contains(r.output, "of the 75 frames the container announces")) << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_2: " + v + "train_2.avi: cannot open video (missing, truncated or not a format FFmpeg reads)")) << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_3: " + a + "train_3.wav: audio stream contains no samples")) << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_4: " + c + "/ratings_gold_standard/arousal/train_4.arff:12: GoldStandard 'oops' is not a number")) << r.output;
  EXPECT_TRUE(contains(r.output, "failed dev_1: " + a + "dev_1.wav: mismatched lengths: audio is 1.00 s but the video is 3.00 s (75 frames at 25 fps)")) << r.output;
  EXPECT_TRUE(contains(r.output, "failed dev_2: " + v + "dev_2.avi: no face found in any of its 75 frames (detector haar)")) << r.output;
  EXPECT_TRUE(contains(r.output, "summary: 1 videos ok (0 unchanged and skipped), 6 failed; 75 frames")) << r.output;

  const json m = read_json(out + "/manifest.json");
  ASSERT_EQ(m["videos"].size(), 1u);
  EXPECT_EQ(m["videos"][0]["id"], "dev_3");
  EXPECT_EQ(m["failed"].size(), 6u);
  EXPECT_EQ(run_command(avf_bin + " inspect " + out + " --verify").exit_code, 0);
  // The same run with --allow-failures exits 0 (and skips the unchanged shard).
  const auto r2 = run_command(avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 32 --progress off --allow-failures");
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
  EXPECT_TRUE(contains(r2.output, "1 unchanged and skipped")) << r2.output;
}

TEST(PreprocessCli, KilledRunResumesToIdenticalShards) {
  const std::string c = make_test_corpus("avf-kill", 3, 2);
  const std::string base = fs::path(c).parent_path().string();
  // --shard-size 100KiB: one video per shard, so a kill lands between finished and unfinished shards.
  const std::string cmd = avf_bin + " preprocess --input " + c + " --face-size 32 --shard-size 100KiB --progress off --output ";
  ASSERT_EQ(run_command(cmd + base + "/clean").exit_code, 0);

  const std::string out = base + "/killed";
  const auto k = run_command("mkdir -p " + out + "; " + cmd + out + " > " + base + "/killed.log 2>&1 & pid=$!; " +
                             "while ! ls " + out + "/shard-*.h5 >/dev/null 2>&1; do sleep 0.02; done; kill -9 $pid; " +
                             "wait $pid; echo status=$?");
  EXPECT_TRUE(contains(k.output, "status=137")) << k.output;
  EXPECT_FALSE(fs::exists(out + "/manifest.json"));  // nothing claims to be complete
  const auto after_kill = shard_hashes(out);
  EXPECT_LT(after_kill.size(), 4u);

  const auto r = run_command(cmd + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "unchanged, skipped")) << r.output;
  const auto resumed = shard_hashes(out), clean = shard_hashes(base + "/clean");
  EXPECT_EQ(resumed.size(), 4u);  // 3 shards + manifest, no .partial left
  EXPECT_EQ(resumed, clean);
  // --force redoes every shard and still produces the same bytes.
  const auto f = run_command(cmd + out + " --force");
  EXPECT_FALSE(contains(f.output, "skipped,")) << f.output;
  EXPECT_EQ(shard_hashes(out), clean);
}

TEST(PreprocessCli, ChangedParametersRedoShardsAndStaleShardsAreRemoved) {
  const std::string c = make_test_corpus("avf-params", 2, 2);
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  const std::string cmd = avf_bin + " preprocess --input " + c + " --output " + out + " --progress off --face-size ";
  ASSERT_EQ(run_command(cmd + "32 --shard-size 64KiB").exit_code, 0);
  EXPECT_EQ(read_json(out + "/manifest.json")["shards"].size(), 2u);
  const auto r = run_command(cmd + "16 --compression gzip:6");  // one shard now, other params
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "skipped,")) << r.output;
  EXPECT_TRUE(contains(r.output, "removing shard-00001.h5")) << r.output;
  const json m = read_json(out + "/manifest.json");
  EXPECT_EQ(m["shards"].size(), 1u);
  EXPECT_EQ(m["params"]["face_size"], 16);
  EXPECT_EQ(m["params"]["compression"], "gzip:6");
  const auto h5ls = run_command("h5ls -r -v " + out + "/shard-00000.h5");
  EXPECT_TRUE(contains(h5ls.output, "Dataset {50/Inf, 16/16, 16/16, 3/3}")) << h5ls.output;
  EXPECT_TRUE(contains(h5ls.output, "shuffle")) << h5ls.output;
  EXPECT_TRUE(contains(h5ls.output, "deflate")) << h5ls.output;
}

TEST(PreprocessCli, InspectSummarisesAndVerifyCatchesACorruptShard) {
  const std::string c = make_test_corpus("avf-inspect", 2, 2);
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  ASSERT_EQ(run_command(avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 24 --progress off").exit_code, 0);
  const auto r = run_command(avf_bin + " inspect " + out + " --verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "videos      2 (dev 1 videos/50 frames, train 1 videos/50 frames)")) << r.output;
  EXPECT_TRUE(contains(r.output, "faces       [N,24x24x3] uint8 RGB")) << r.output;
  EXPECT_TRUE(contains(r.output, "spectrogram 129 bins")) << r.output;
  EXPECT_TRUE(contains(r.output, "targets     arousal, valence")) << r.output;
  EXPECT_TRUE(contains(r.output, "labels      valence: 0 of 100 frames missing (NaN)")) << r.output;
  EXPECT_TRUE(contains(r.output, "verify      ok: 1 shards")) << r.output;
  // One changed byte in the middle (face pixels): the checksum no longer matches the manifest.
  run_command("printf 'X' | dd of=" + out + "/shard-00000.h5 bs=1 seek=$(( $(stat -c %s " + out +
              "/shard-00000.h5) / 2 )) conv=notrunc 2>/dev/null");
  const auto bad = run_command(avf_bin + " inspect " + out + " --verify");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_TRUE(contains(bad.output, "problem     shard-00000.h5: sha256 ")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "differs from the manifest's")) << bad.output;
}

TEST(PreprocessCli, UsageErrorsNameTheOption) {
  const auto r = run_command(avf_bin + " preprocess --input /x --output /y --compression zip");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "avf preprocess: error: command line: --compression 'zip': expected none, gzip or gzip:1..9\n");
  const auto s = run_command(avf_bin + " preprocess --input /x --output /y --shard-size 2XB");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_TRUE(contains(s.output, "size '2XB': expected a positive number with an optional unit")) << s.output;
  const auto l = run_command(avf_bin + " preprocess --layout recola --input /tmp --output /tmp/avf-never");
  EXPECT_EQ(l.exit_code, 2);
  EXPECT_EQ(l.output, "avf preprocess: error: command line: --layout 'recola': expected avec2016, manifest or faces\n");
}
