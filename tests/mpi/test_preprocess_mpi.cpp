// `mpirun -np 2 avf preprocess` on a generated corpus: both ranks write shards, rank 0's manifest
// lists them with correct checksums, and in every video the faces, spectrogram rows and labels line
// up frame by frame with the sources (labels equal the ARFF rows, spectrogram rows equal the audio's).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/files.h"
#include "core/base/h5.h"
#include "core/data/shard_format.h"
#include "corpus.h"
#include "preprocess/audio.h"
#include "preprocess/labels.h"
#include "preprocess/spectrogram.h"
#include "run_command.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace avf;

namespace {

std::vector<float> read_floats(hid_t group, const char* name, std::vector<hsize_t>& shape) {
  h5::Handle d = h5::check(H5Dopen2(group, name, H5P_DEFAULT), name, "missing");
  shape = h5::dataset_shape(d);
  size_t n = 1;
  for (auto s : shape) n *= s;
  std::vector<float> v(n);
  H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  return v;
}

}  // namespace

TEST(PreprocessMpi, TwoRanksWriteShardsWhoseFramesSpectrogramAndLabelsLineUp) {
  const std::string c = make_test_corpus("avf-mpi", 3, 6);
  const std::string out = fs::path(c).parent_path().string() + "/shards";
  // 256 KiB shards hold one 150-frame video each: 3 shards for 2 ranks.
  const auto r = run_command("mpirun --allow-run-as-root --oversubscribe -np 2 " + std::string(AVF_BIN) +
                             " preprocess --input " + c + " --output " + out +
                             " --face-size 32 --shard-size 256KiB --progress off --timings " + out + "/timings.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Per rank: the frames it decoded and the time of each stage.
  const json timings = json::parse(std::ifstream(out + "/timings.json"));
  ASSERT_EQ(timings["ranks"].size(), 2u);
  EXPECT_EQ(timings["ranks"][0]["frames"].get<int64_t>() + timings["ranks"][1]["frames"].get<int64_t>(), 450);
  for (const auto& rank : timings["ranks"])
    for (const char* stage : {"decode", "detect", "crop", "spectrogram", "write"}) {
      EXPECT_GT(rank["stages"][stage]["seconds"].get<double>(), 0) << stage;
      EXPECT_GT(rank["stages"][stage]["frames_per_s"].get<double>(), 0) << stage;
    }
  EXPECT_NE(r.output.find("rank 1: frames/s by stage: crop "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 0/2 (local 0/2, 1 node, launched by mpirun)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 0: 2 shards written or kept"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 1: 1 shards written or kept"), std::string::npos) << r.output;

  std::ifstream in(out + "/" + shard::kManifestFile);
  const json m = json::parse(in);
  EXPECT_EQ(m["format"], "avf-shard");
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(m["targets"], json({"arousal", "valence"}));
  ASSERT_EQ(m["shards"].size(), 3u);
  ASSERT_EQ(m["videos"].size(), 3u);
  EXPECT_TRUE(m["failed"].empty());
  for (const auto& s : m["shards"]) {
    const std::string path = out + "/" + s["file"].get<std::string>();
    EXPECT_EQ(sha256_file(path), s["sha256"]) << path;
    EXPECT_EQ(fs::file_size(path), s["bytes"].get<uint64_t>());
    EXPECT_EQ(run_command("h5dump -H " + path + " > /dev/null").exit_code, 0) << path;
  }

  for (const auto& v : m["videos"]) {
    const std::string id = v["id"];
    SCOPED_TRACE(id);
    h5::Handle file = h5::open_read_only(out + "/" + v["shard"].get<std::string>());
    h5::Handle g = h5::check(H5Gopen2(file, id.c_str(), H5P_DEFAULT), id, "missing group");
    const int64_t n = h5::read_int_attr(g, shard::kAttrNFrames);
    EXPECT_EQ(n, 150);
    EXPECT_EQ(v["n_frames"], n);
    EXPECT_EQ(h5::read_string_attr(g, shard::kAttrPartition), id.substr(0, id.find('_')));
    EXPECT_EQ(h5::read_string_attr(g, shard::kAttrSourceSha256), sha256_file(c + "/recordings_video/" + id + ".mp4"));
    h5::Handle faces(H5Dopen2(g, shard::kFaces, H5P_DEFAULT));
    EXPECT_EQ(h5::dataset_shape(faces), (std::vector<hsize_t>{hsize_t(n), 32, 32, 3}));
    std::vector<hsize_t> shape;
    const auto labels = read_floats(g, shard::kLabels, shape);
    ASSERT_EQ(shape, (std::vector<hsize_t>{hsize_t(n), 2}));
    for (int t = 0; t < 2; ++t) {
      const std::string target = t == 0 ? "arousal" : "valence";
      const auto arff = pre::read_arff(c + "/ratings_gold_standard/" + target + "/" + id + ".arff", target);
      ASSERT_EQ(int64_t(arff.times.size()), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(labels[i * 2 + t], arff.values[i]) << target << " frame " << i;
    }
    const auto spec = read_floats(g, shard::kSpectrogram, shape);
    ASSERT_EQ(shape, (std::vector<hsize_t>{hsize_t(n), 129}));
    const auto expected =
        pre::log_spectrogram(pre::decode_audio(c + "/recordings_audio/" + id + ".wav").samples, n, {});
    for (size_t i = 0; i < spec.size(); ++i) ASSERT_NEAR(spec[i], expected[i], 1e-3) << "element " << i;
    // Faces are found in most frames where make-corpus did not hide the face.
    std::ifstream rendered(c + "/rendered/" + id + ".csv");
    std::string line;
    std::getline(rendered, line);
    int64_t shown = 0;
    while (std::getline(rendered, line)) shown += line.substr(line.find(',') + 1, 1) == "0";
    ASSERT_GT(shown, 0);
    EXPECT_GT(double(v["face_frames"].get<int64_t>()), 0.6 * double(shown));
  }
  EXPECT_EQ(run_command(std::string(AVF_BIN) + " inspect " + out + " --verify").exit_code, 0);
}
