// `avf preprocess` and `avf inspect` as users meet them: bad inputs get clear messages while the
// other videos complete, a run killed with SIGKILL resumes to identical shards, inspect verifies.
// Over 400 lines: every case runs the real `avf` on one generated corpus, built once for the file.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/base/files.h"
#include "core/base/h5.h"
#include "corpus.h"
#include "damage.h"
#include "fs_test_support.h"
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
  for (const auto& e : fs::directory_iterator(dir))
    out[e.path().filename().string()] = avf::sha256_file(e.path().string());
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(PreprocessCli, BadInputsFailWithClearMessagesWhileTheOthersComplete) {
  const std::string c = make_test_corpus("avf-bad", 7, 3, "--container avi");
  const std::string v = c + "/recordings_video/", a = c + "/recordings_audio/";
  const auto r0 = run_command(
      "set -e; head -c 150000 " + v + "train_1.avi > " + v + "t && mv " + v + "t " + v + "train_1.avi; " +  // truncated
      "echo 'not a video' > " + v + "train_2.avi; " + "head -c 44 " + a + "train_3.wav > " + a + "t && mv " + a + "t " +
      a + "train_3.wav; " +  // header, no samples
      "sed -i '12s/.*/train_4,0.120000,oops/' " + c + "/ratings_gold_standard/arousal/train_4.arff; " + "sox " + a +
      "dev_1.wav " + a + "t.wav trim 0 1 && mv " + a + "t.wav " + a + "dev_1.wav; " +
      "ffmpeg -loglevel error -y -f lavfi -i color=c=gray:s=160x120:d=3:r=25 -c:v mjpeg " + v + "dev_2.avi");
  ASSERT_EQ(r0.exit_code, 0) << r0.output;
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  const auto r =
      run_command(avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 32 --progress off");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_1: " + v + "train_1.avi: truncated video: decoded ")) << r.output;
  EXPECT_TRUE(contains(r.output, "of the 75 frames the container announces")) << r.output;
  EXPECT_TRUE(contains(
      r.output,
      "failed train_2: " + v + "train_2.avi: cannot open video (missing, truncated or not a format FFmpeg reads)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "failed train_3: " + a + "train_3.wav: audio stream contains no samples")) << r.output;
  EXPECT_TRUE(contains(
      r.output,
      "failed train_4: " + c + "/ratings_gold_standard/arousal/train_4.arff:12: GoldStandard 'oops' is not a number"))
      << r.output;
  EXPECT_TRUE(contains(
      r.output, "failed dev_1: " + a +
                    "dev_1.wav: mismatched lengths: audio is 1.00 s but the video is 3.00 s (75 frames at 25 fps)"))
      << r.output;
  EXPECT_TRUE(
      contains(r.output, "failed dev_2: " + v + "dev_2.avi: no face found in any of its 75 frames (detector haar)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "summary: 1 videos ok (0 unchanged and skipped), 6 failed; 75 frames")) << r.output;

  const json m = read_json(out + "/manifest.json");
  ASSERT_EQ(m["videos"].size(), 1u);
  EXPECT_EQ(m["videos"][0]["id"], "dev_3");
  EXPECT_EQ(m["failed"].size(), 6u);
  EXPECT_EQ(run_command(avf_bin + " inspect " + out + " --verify").exit_code, 0);
  // The same run with --allow-failures exits 0 (and skips the unchanged shard).
  const auto r2 = run_command(avf_bin + " preprocess --input " + c + " --output " + out +
                              " --face-size 32 --progress off --allow-failures");
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
  EXPECT_TRUE(contains(r2.output, "1 unchanged and skipped")) << r2.output;
}

TEST(PreprocessCli, KilledRunResumesToIdenticalShards) {
  const std::string c = make_test_corpus("avf-kill", 3, 2);
  const std::string base = fs::path(c).parent_path().string();
  // --shard-size 100KiB: one video per shard, so a kill lands between finished and unfinished shards.
  const std::string cmd =
      avf_bin + " preprocess --input " + c + " --face-size 32 --shard-size 100KiB --progress off --output ";
  ASSERT_EQ(run_command(cmd + base + "/clean").exit_code, 0);

  // A fresh run killed while it writes the second shard: no manifest, the first shard complete.
  const std::string out = base + "/killed";
  const std::string kill_at_second_shard =
      " > " + base + "/killed.log 2>&1 & pid=$!; while [ ! -e " + out +
      "/shard-00001.h5.partial ]; do sleep 0.02; done; kill -9 $pid; wait $pid; echo status=$?";
  const auto k = run_command("mkdir -p " + out + "; " + cmd + out + kill_at_second_shard);
  EXPECT_TRUE(contains(k.output, "status=137")) << k.output;
  EXPECT_FALSE(fs::exists(out + "/manifest.json"));  // nothing claims to be complete
  EXPECT_TRUE(fs::exists(out + "/shard-00000.h5"));
  EXPECT_FALSE(fs::exists(out + "/shard-00001.h5"));

  const auto r = run_command(cmd + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "shard-00000.h5: inputs and parameters unchanged, skipped")) << r.output;
  const auto resumed = shard_hashes(out), clean = shard_hashes(base + "/clean");
  EXPECT_EQ(resumed.size(), 4u);  // 3 shards + manifest, no .partial left
  EXPECT_EQ(resumed, clean);

  // Killing a run over a complete dataset removes its manifest too: the dataset is being rewritten.
  const auto k2 = run_command(cmd + out + " --force" + kill_at_second_shard);
  EXPECT_TRUE(contains(k2.output, "status=137")) << k2.output;
  EXPECT_FALSE(fs::exists(out + "/manifest.json"));
  ASSERT_EQ(run_command(cmd + out).exit_code, 0);
  EXPECT_EQ(shard_hashes(out), clean);

  // --force redoes every shard and still produces the same bytes.
  const auto f = run_command(cmd + out + " --force");
  EXPECT_FALSE(contains(f.output, "skipped,")) << f.output;
  EXPECT_EQ(shard_hashes(out), clean);
}

TEST(PreprocessCli, FullDiskFailsTheShardWithItsPathAndReasonAndWritesNoManifest) {
  const std::string c = make_test_corpus("avf-full", 2, 2);
  // Each 2 s video needs about 180 KiB: the first shard fills this disk.
  SmallTmpfs disk(128 * 1024);
  ASSERT_TRUE(disk.mounted()) << "mounting a tmpfs needs root (CAP_SYS_ADMIN), which CI has: this test must run";
  const std::string out = disk.path() + "/shards";
  // An earlier complete dataset there must not survive as if the new one were complete.
  ASSERT_EQ(run_command("mkdir -p " + out + " && echo '{}' > " + out + "/manifest.json").exit_code, 0);
  for (const std::string& launch :
       {std::string(), std::string("mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 ")}) {
    SCOPED_TRACE(launch.empty() ? "1 rank" : "2 ranks");
    const auto r = run_command(launch + avf_bin + " preprocess --input " + c + " --output " + out +
                               " --face-size 32 --shard-size 64KiB --progress off");
    EXPECT_EQ(r.exit_code, 1) << r.output;  // a clean failure: not a crash (139) at exit
    EXPECT_TRUE(contains(r.output, out + "/shard-0000")) << r.output;
    EXPECT_TRUE(contains(r.output, ": No space left on device")) << r.output;
    EXPECT_TRUE(contains(r.output, "no manifest.json written: the dataset in " + out + " is incomplete")) << r.output;
    EXPECT_FALSE(fs::exists(out + "/manifest.json"));
    for (const auto& name : list_dir(out)) EXPECT_EQ(name.find(".partial"), std::string::npos) << name;
  }
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

TEST(PreprocessCli, InspectSummarisesVerifyCatchesACorruptShardAndARerunRepairsIt) {
  const std::string c = make_test_corpus("avf-inspect", 2, 2);
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  const std::string preprocess =
      avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 24 --progress off";
  ASSERT_EQ(run_command(preprocess).exit_code, 0);
  const auto r = run_command(avf_bin + " inspect " + out + " --verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "videos      2 (dev 1 videos/50 frames, train 1 videos/50 frames)")) << r.output;
  EXPECT_TRUE(contains(r.output, "faces       24x24x3 uint8 RGB per frame; face found in ")) << r.output;
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
  // Its inputs did not change, but its bytes no longer match the manifest: a re-run rewrites it.
  const auto fix = run_command(preprocess);
  EXPECT_TRUE(contains(fix.output, "shard-00000.h5: changed since manifest.json was written, rewriting it"))
      << fix.output;
  EXPECT_EQ(run_command(avf_bin + " inspect " + out + " --verify").exit_code, 0);
}

TEST(PreprocessCli, HelpAndUsageErrorsNameTheOption) {
  const auto h = run_command(avf_bin + " preprocess --help");
  EXPECT_EQ(h.exit_code, 0) << h.output;
  EXPECT_TRUE(contains(h.output, "usage: avf preprocess --layout avec2016|manifest|faces")) << h.output;
  EXPECT_TRUE(contains(h.output, "--freq-bins")) << h.output;
  EXPECT_EQ(run_command(avf_bin + " inspect --help").exit_code, 0);
  EXPECT_EQ(run_command(avf_bin + " preprocess --output /tmp/x").output,
            "avf preprocess: error: command line: --input DIR is required\n");
  EXPECT_EQ(run_command(avf_bin + " inspect").exit_code, 2);
  const auto r = run_command(avf_bin + " preprocess --input /x --output /y --compression zip");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "avf preprocess: error: command line: --compression 'zip': expected none, gzip or gzip:1..9\n");
  const auto s = run_command(avf_bin + " preprocess --input /x --output /y --shard-size 2XB");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_TRUE(contains(s.output, "size '2XB': expected a positive number with an optional unit")) << s.output;
  const auto l = run_command(avf_bin + " preprocess --layout recola --input /tmp --output /tmp/avf-never");
  EXPECT_EQ(l.exit_code, 2);
  EXPECT_EQ(l.output,
            "avf preprocess: error: command line: --layout 'recola': expected avec2016, manifest, faces or affwild2\n");
}

namespace {

// A shard dataset [n, cols] of floats from the shard named by the manifest.
std::vector<float> read_video_floats(const std::string& dir, const std::string& id, const char* name) {
  const json m = read_json(dir + "/manifest.json");
  for (const auto& v : m["videos"]) {
    if (v["id"] != id) continue;
    avf::h5::Handle file = avf::h5::open_read_only(dir + "/" + v["shard"].get<std::string>());
    avf::h5::Handle d = avf::h5::check(H5Dopen2(file, (id + "/" + name).c_str(), H5P_DEFAULT), id, "missing");
    size_t n = 1;
    for (auto s : avf::h5::dataset_shape(d)) n *= s;
    std::vector<float> out(n);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    return out;
  }
  ADD_FAILURE() << id << " not in " << dir;
  return {};
}

}  // namespace

// Shards written inside the input would be read back as input: under ratings_gold_standard they
// became a target named "shards" with only NaN labels.
TEST(PreprocessCli, OutputInsideTheInputIsRefused) {
  const std::string c = make_test_corpus("avf-inside", 1, 2);
  for (const std::string& out : {c + "/ratings_gold_standard/shards", c, c + "/recordings_video/../shards"}) {
    const auto r =
        run_command(avf_bin + " preprocess --input " + c + "/ --output " + out + " --face-size 16 --progress off");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(r.output, "avf preprocess: error: command line: --output '" + out + "' is inside --input '" + c +
                            "/', whose folders the avec2016 layout reads as input; expected an output folder outside "
                            "the input\n");
    EXPECT_FALSE(fs::exists(out + "/manifest.json")) << out;
  }
}

namespace {

// A labels CSV for the manifest layout: `frames` rows at 25 fps, both targets 0.
void write_zero_labels(const std::string& path, int frames) {
  std::string csv = "time,valence,arousal\n";
  for (int i = 0; i < frames; ++i) csv += fmt::format("{:.2f},0,0\n", i * 0.04);
  write_file(path, csv);
}

}  // namespace

// OpenCV's sample Megamind.avi (XVID + AC3) starts with an incomplete AC3 frame, which ffmpeg reports
// and skips; preprocessing must keep the video too, with a warning, and refuse it only when asked to
// tolerate no bad packet at all.
TEST(PreprocessCli, RealVideoWithAnIncompleteAc3FrameIsKept) {
  const std::string megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!fs::exists(megamind))
    GTEST_SKIP() << megamind << " is missing: install Debian's opencv-doc (tools/install-deps does)";
  const std::string base = make_temp_dir("avf-megamind");
  write_zero_labels(base + "/labels.csv", 282);  // 11.26 s at 25 fps
  write_file(base + "/manifest.csv", "id,video,audio,labels,partition\nmegamind," + megamind + ",,labels.csv,train\n");
  const std::string cmd = avf_bin + " preprocess --layout manifest --input " + base + "/manifest.csv --output " + base +
                          "/shards --face-size 32 --progress off";
  const auto r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string bad = megamind +
                          ": 1 of 352 audio packets could not be decoded (the first at 0.00 s: "
                          "Invalid data found when processing input)";
  EXPECT_TRUE(contains(r.output, bad + "; skipped, their time filled with silence")) << r.output;
  EXPECT_TRUE(contains(r.output, "summary: 1 videos ok (0 unchanged and skipped), 0 failed; 282 frames")) << r.output;
  // The incomplete frame is the first one: the 32 ms of silence it leaves keep the others in place.
  const auto spec = read_video_floats(base + "/shards", "megamind", "spectrogram");
  ASSERT_EQ(spec.size(), 282u * 129u);

  const auto strict = run_command(cmd + " --max-bad-fraction 0");
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_TRUE(contains(strict.output, "failed megamind: " + bad + ", more than --max-bad-fraction 0 of them allows"))
      << strict.output;
}

// Packets damaged on purpose (noise over their payload, so the decoders refuse them) in the audio and
// in the video stream of a generated corpus video: a few are skipped with a warning, more than
// --max-bad-fraction of a stream's packets fail that video with a message naming the file, the
// stream, the count and where the first one is.
TEST(PreprocessCli, DamagedPacketsAreSkippedUpToTheLimit) {
  const std::string c = make_test_corpus("avf-damaged", 1, 8);
  const std::string base = fs::path(c).parent_path().string();
  const auto mux = run_command("ffmpeg -loglevel error -i " + c + "/recordings_video/train_1.mp4 -i " + c +
                               "/recordings_audio/train_1.wav -c:v copy -c:a aac -threads 1 " + base + "/clean.mp4");
  ASSERT_EQ(mux.exit_code, 0) << mux.output;
  for (const char* name : {"few", "audio_bad", "video_bad"})
    fs::copy_file(base + "/clean.mp4", base + "/" + name + ".mp4");
  const int audio_packets = damage_packets(base + "/few.mp4", 1, {100});
  const int video_packets = damage_packets(base + "/few.mp4", 0, {100});
  ASSERT_EQ(video_packets, 200);
  damage_packets(base + "/audio_bad.mp4", 1, packet_range(100, 20));  // 5% of the audio
  damage_packets(base + "/video_bad.mp4", 0, packet_range(100, 10));  // 5% of the video
  write_zero_labels(base + "/labels.csv", 200);
  write_file(base + "/manifest.csv",
             "id,video,audio,labels,partition\n"
             "few,few.mp4,,labels.csv,train\n"
             "audio_bad,audio_bad.mp4,,labels.csv,train\n"
             "video_bad,video_bad.mp4,,labels.csv,train\n");
  const std::string cmd = avf_bin + " preprocess --layout manifest --input " + base + "/manifest.csv --output " + base +
                          "/shards --face-size 32 --progress off";
  const auto r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string audio_total =
      fmt::format(" of {} audio packets could not be decoded (the first at ", audio_packets);
  EXPECT_TRUE(contains(r.output, base + "/few.mp4: 1" + audio_total)) << r.output;
  EXPECT_TRUE(contains(r.output, "; skipped, their time filled with silence")) << r.output;
  EXPECT_TRUE(contains(r.output, base + "/few.mp4: 1 of 200 video packets could not be decoded (the first at 4.00 s); "
                                        "skipped, the frame before each one shown in its place"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "failed audio_bad: " + base + "/audio_bad.mp4: 20" + audio_total)) << r.output;
  EXPECT_TRUE(contains(r.output, "failed video_bad: " + base +
                                     "/video_bad.mp4: 10 of 200 video packets could not be "
                                     "decoded (the first at 4.00 s), more than --max-bad-fraction 0.01 of them allows"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "summary: 1 videos ok (0 unchanged and skipped), 2 failed; 200 frames")) << r.output;
  EXPECT_EQ(read_json(base + "/shards/manifest.json")["videos"][0]["id"], "few");

  // A looser limit keeps all three, still at 200 frames each: skipped packets do not shift time.
  const auto loose = run_command(cmd + " --max-bad-fraction 0.1");
  EXPECT_EQ(loose.exit_code, 0) << loose.output;
  EXPECT_TRUE(contains(loose.output, "summary: 3 videos ok (0 unchanged and skipped), 0 failed; 600 frames"))
      << loose.output;
  const auto bad = run_command(cmd + " --max-bad-fraction 2");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_EQ(bad.output, "avf preprocess: error: command line: --max-bad-fraction 2: expected a fraction 0..1\n");
}

TEST(PreprocessCli, ManifestAndFacesLayoutsGiveTheSameLabelsAsAvec) {
  const std::string c = make_test_corpus("avf-layouts", 1, 2);
  const std::string base = fs::path(c).parent_path().string();
  const std::string gs = c + "/ratings_gold_standard/";
  // Labels as one CSV with the targets in another order; a video carrying its own audio stream;
  // the frames as a folder of images for the faces layout.
  const auto prep = run_command(
      "set -e; cd " + base +
      "; mkdir -p m faces/faces/train_1 faces/audio faces/labels; "
      "grep '^train_1' " +
      gs +
      "valence/train_1.arff | cut -d, -f2,3 > v.txt; "
      "grep '^train_1' " +
      gs +
      "arousal/train_1.arff | cut -d, -f3 > a.txt; "
      "(echo 'valence,time,arousal'; paste -d, v.txt a.txt | awk -F, '{print $2\",\"$1\",\"$3}') > m/train_1.csv; "
      "ffmpeg -loglevel error -i " +
      c + "/recordings_video/train_1.mp4 -i " + c +
      "/recordings_audio/train_1.wav "
      "-c:v copy -c:a aac m/train_1.mp4; "
      "printf 'id,video,audio,labels,partition\\nsubject_a,train_1.mp4,,train_1.csv,train\\n' > m/manifest.csv; "
      "ffmpeg -loglevel error -i " +
      c +
      "/recordings_video/train_1.mp4 faces/faces/train_1/%04d.png; "
      "cp " +
      c + "/recordings_audio/train_1.wav faces/audio/; cp m/train_1.csv faces/labels/");
  ASSERT_EQ(prep.exit_code, 0) << prep.output;
  const std::string common = " --face-size 16 --progress off --output ";
  ASSERT_EQ(run_command(avf_bin + " preprocess --input " + c + common + base + "/o-avec").exit_code, 0);
  const auto rm = run_command(avf_bin + " preprocess --layout manifest --input " + base + "/m/manifest.csv" + common +
                              base + "/o-manifest");
  ASSERT_EQ(rm.exit_code, 0) << rm.output;
  const auto rf =
      run_command(avf_bin + " preprocess --layout faces --input " + base + "/faces" + common + base + "/o-faces");
  ASSERT_EQ(rf.exit_code, 0) << rf.output;

  const json mm = read_json(base + "/o-manifest/manifest.json");
  EXPECT_EQ(mm["targets"], json({"valence", "arousal"}));  // the CSV's order
  EXPECT_EQ(mm["videos"][0]["partition"], "train");
  const auto avec = read_video_floats(base + "/o-avec", "train_1", "labels");  // arousal, valence
  const auto manifest = read_video_floats(base + "/o-manifest", "subject_a", "labels");
  const auto faces = read_video_floats(base + "/o-faces", "train_1", "labels");
  ASSERT_EQ(avec.size(), 100u);
  ASSERT_EQ(manifest.size(), 100u);
  ASSERT_EQ(faces.size(), 100u);
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_FLOAT_EQ(manifest[2 * i], avec[2 * i + 1]);
    EXPECT_FLOAT_EQ(manifest[2 * i + 1], avec[2 * i]);
    EXPECT_FLOAT_EQ(faces[2 * i], manifest[2 * i]);
  }
  // Audio decoded from the video's own (AAC) stream: speech, not silence, in the spectrogram.
  const auto spec = read_video_floats(base + "/o-manifest", "subject_a", "spectrogram");
  ASSERT_EQ(spec.size(), 50u * 129u);
  EXPECT_GT(*std::max_element(spec.begin(), spec.end()), -40.0f);
  // The faces layout keeps every image as a found face.
  EXPECT_EQ(read_json(base + "/o-faces/manifest.json")["videos"][0]["face_frames"], 50);

  // avec2016 without a target's ARFF (like the unreleased test labels): that column is NaN.
  fs::remove(gs + "valence/train_1.arff");
  ASSERT_EQ(run_command(avf_bin + " preprocess --input " + c + common + base + "/o-nolabels").exit_code, 0);
  const auto partial = read_video_floats(base + "/o-nolabels", "train_1", "labels");
  ASSERT_EQ(partial.size(), 100u);
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_FLOAT_EQ(partial[2 * i], avec[2 * i]);
    EXPECT_TRUE(std::isnan(partial[2 * i + 1]));
  }
  const auto inspect = run_command(avf_bin + " inspect " + base + "/o-nolabels --verify");
  EXPECT_TRUE(contains(inspect.output, "labels      valence: 50 of 50 frames missing (NaN)")) << inspect.output;
}

namespace {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = double(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace

TEST(MakeCorpus, IsDeterministicBySeed) {
  const std::string a = make_test_corpus("avf-corpus-a", 1, 2), b = make_test_corpus("avf-corpus-b", 1, 2);
  const std::string other = make_test_corpus("avf-corpus-c", 1, 2, "--seed 8");
  for (const char* f : {"/recordings_video/train_1.mp4", "/recordings_audio/train_1.wav",
                        "/ratings_gold_standard/valence/train_1.arff", "/ratings_gold_standard/arousal/train_1.arff"}) {
    EXPECT_EQ(avf::sha256_file(a + f), avf::sha256_file(b + f)) << f;
    EXPECT_NE(avf::sha256_file(a + f), avf::sha256_file(other + f)) << f;
  }
}

// The labels are functions of what was rendered: valence shows in the face, arousal in the voice's
// loudness where the subject speaks, hidden stretches show no face and visible faces are found
// where they were drawn.
TEST(MakeCorpus, ValenceIsVisibleArousalAudibleAndFacesAreFoundWhereDrawn) {
  const std::string c = make_test_corpus("avf-semantics", 2, 20);
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  const auto r =
      run_command(avf_bin + " preprocess --input " + c + " --output " + out + " --face-size 32 --progress off");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json m = read_json(out + "/manifest.json");
  for (const auto& v : m["videos"]) {
    const std::string id = v["id"];
    SCOPED_TRACE(id);
    avf::h5::Handle file = avf::h5::open_read_only(out + "/" + v["shard"].get<std::string>());
    auto read_u8 = [&](const char* name) {
      avf::h5::Handle d(H5Dopen2(file, (id + "/" + name).c_str(), H5P_DEFAULT));
      size_t n = 1;
      for (auto s : avf::h5::dataset_shape(d)) n *= s;
      std::vector<uint8_t> out(n);
      H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
      return out;
    };
    const auto faces = read_u8("faces"), found = read_u8("face_found");
    const auto labels = read_video_floats(out, id, "labels"), spec = read_video_floats(out, id, "spectrogram");
    const size_t n = found.size();
    ASSERT_EQ(n, 500u);
    // make-corpus records per frame where it drew the face, whether it hid it (occluded or off-frame)
    // and whether the subject was silent.
    struct Rendered {
      int hidden = 0, silent = 0;
      float x = 0, y = 0, w = 0, h = 0;
    };
    std::vector<Rendered> rendered(n);
    {
      std::ifstream csv(c + "/rendered/" + id + ".csv");
      std::string line;
      std::getline(csv, line);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::getline(csv, line)) << "rendered CSV ends at frame " << i;
        int frame = 0;
        auto& r = rendered[i];
        ASSERT_EQ(
            std::sscanf(line.c_str(), "%d,%d,%f,%f,%f,%f,%d", &frame, &r.hidden, &r.x, &r.y, &r.w, &r.h, &r.silent), 7)
            << line;
      }
    }
    // Valence against the mean brightness of the central half of each crop, over frames with a face.
    std::vector<double> brightness, valence;
    for (size_t i = 0; i < n; ++i) {
      if (!found[i]) continue;
      double sum = 0;
      for (int y = 8; y < 24; ++y)
        for (int x = 8; x < 24; ++x)
          for (int ch = 0; ch < 3; ++ch) sum += faces[((i * 32 + y) * 32 + x) * 3 + ch];
      brightness.push_back(sum);
      valence.push_back(labels[i * 2 + 1]);
    }
    EXPECT_GT(pearson(brightness, valence), 0.8);
    // Arousal is constant per segment: the mean power of a spoken segment rises with it.
    std::vector<double> power_db, arousal;
    for (size_t start = 0, end; start < n; start = end) {
      for (end = start; end < n && labels[end * 2] == labels[start * 2]; ++end) {
      }
      if (rendered[start].silent) continue;
      double power = 0;
      for (size_t i = start * 129; i < end * 129; ++i) power += std::pow(10.0, spec[i] / 10.0);
      power_db.push_back(10 * std::log10(power / ((end - start) * 129)));
      arousal.push_back(labels[start * 2]);
    }
    ASSERT_GE(arousal.size(), 4u);
    EXPECT_GT(pearson(power_db, arousal), 0.8);
    const auto box = read_video_floats(out, id, "face_box");
    int hidden = 0, hidden_found = 0, visible = 0, visible_found = 0, boxes_on_face = 0;
    for (size_t i = 0; i < n; ++i) {
      const auto& r = rendered[i];
      const bool inside = r.x >= 0 && r.y >= 0 && r.x + r.w <= 160 && r.y + r.h <= 120;
      if (r.hidden) {
        ++hidden;
        hidden_found += found[i];
      } else if (inside) {
        ++visible;
        visible_found += found[i];
        const cv::Rect2f truth(r.x, r.y, r.w, r.h), got(box[i * 4], box[i * 4 + 1], box[i * 4 + 2], box[i * 4 + 3]);
        boxes_on_face += found[i] && (truth & got).area() / (truth | got).area() > 0.4;
      }
    }
    EXPECT_LE(hidden_found, hidden / 50) << hidden_found << " of " << hidden << " hidden frames have a face";
    EXPECT_GE(visible_found, visible * 7 / 10) << visible_found << " of " << visible << " visible frames have a face";
    EXPECT_GE(boxes_on_face, visible_found * 9 / 10)
        << boxes_on_face << " of " << visible_found << " boxes on the face";
  }
}
