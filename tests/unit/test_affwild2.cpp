// `avf preprocess --layout affwild2` on a generated Aff-Wild2 corpus (tools/make-corpus --layout
// affwild2): per output frame the label of the source frame nearest its time (25 fps, 30 fps and a
// variable-rate video; -5 -> NaN per target), the organisers' cropped_aligned face of that same frame
// (a gap is a frame without a face, not a shift), faces detected where there are none, and the two
// people of a <name>_left / <name>_right pair: each their own face, both the same audio. Everything
// is checked against what the generator says it rendered (rendered/*.csv).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "core/base/files.h"
#include "core/base/h5.h"
#include "core/base/text.h"
#include "run_command.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string avf_bin = AVF_BIN;
constexpr int kFace = 32;      // --face-size of the runs
constexpr double kFps = 25.0;  // --fps of the runs (the default)

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// The corpus of every test here, generated once: 4 single-person videos of 4 s (30, 25, 30 fps and a
// variable rate; one .avi; the last without cropped_aligned) and a left/right pair at 30 fps.
const std::string& corpus() {
  static const std::string dir = [] {
    const std::string d = make_temp_dir("avf-affwild2") + "/corpus";
    const auto r = run_command(std::string(AVF_SOURCE_DIR) + "/tools/make-corpus --layout affwild2 --output " + d +
                               " --videos 4 --vfr --seconds 4 --seed 7 --width 192 --height 144 --face-size 64");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d;
  }();
  return dir;
}

// One annotation of the corpus, as rendered/videos.csv and rendered/<name>.csv describe it.
struct Rendered {
  std::string name, video, fps, set, side, identity;
  bool has_aligned = false;
  std::vector<double> time;
  std::vector<std::string> valence, arousal;  // the annotation's text, -5 included
  std::vector<int> face, cropped;
  std::vector<cv::Rect2f> box;
};

std::vector<Rendered> rendered() {
  std::vector<Rendered> out;
  std::ifstream list(corpus() + "/rendered/videos.csv");
  std::string line;
  std::getline(list, line);
  while (std::getline(list, line)) {
    const auto f = avf::split(line, ',');
    if (f.size() != 7) continue;
    Rendered r{f[0], f[1], f[2], f[3], f[4], f[5], f[6] == "1", {}, {}, {}, {}, {}, {}};
    std::ifstream csv(corpus() + "/rendered/" + r.name + ".csv");
    std::getline(csv, line);
    while (std::getline(csv, line)) {
      const auto c = avf::split(line, ',');
      r.time.push_back(std::stod(c[1]));
      r.valence.push_back(c[2]);
      r.arousal.push_back(c[3]);
      r.face.push_back(std::stoi(c[4]));
      r.cropped.push_back(std::stoi(c[5]));
      r.box.emplace_back(std::stof(c[6]), std::stof(c[7]), std::stof(c[8]), std::stof(c[9]));
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The source frame an output frame at time t shows: the nearest (the earlier one at equal distance).
size_t nearest(const std::vector<double>& times, double t) {
  size_t best = 0;
  for (size_t j = 1; j < times.size(); ++j)
    if (std::abs(times[j] - t) < std::abs(times[best] - t) - 1e-9) best = j;
  return best;
}

// What the shards hold for one video.
struct ShardVideo {
  int64_t n = 0;
  std::vector<uint8_t> faces, found;
  std::vector<float> labels, boxes, spectrogram;
  std::string partition;
};

template <class T>
std::vector<T> read_dataset(hid_t file, const std::string& path, hid_t type) {
  avf::h5::Handle d = avf::h5::check(H5Dopen2(file, path.c_str(), H5P_DEFAULT), path, "missing");
  size_t n = 1;
  for (auto s : avf::h5::dataset_shape(d)) n *= s;
  std::vector<T> out(n);
  H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  return out;
}

ShardVideo read_video(const std::string& dir, const std::string& id) {
  ShardVideo v;
  const json manifest = read_json(dir + "/manifest.json");
  for (const auto& m : manifest["videos"]) {
    if (m["id"] != id) continue;
    avf::h5::Handle file = avf::h5::open_read_only(dir + "/" + m["shard"].get<std::string>());
    v.faces = read_dataset<uint8_t>(file, id + "/faces", H5T_NATIVE_UINT8);
    v.found = read_dataset<uint8_t>(file, id + "/face_found", H5T_NATIVE_UINT8);
    v.labels = read_dataset<float>(file, id + "/labels", H5T_NATIVE_FLOAT);
    v.boxes = read_dataset<float>(file, id + "/face_box", H5T_NATIVE_FLOAT);
    v.spectrogram = read_dataset<float>(file, id + "/spectrogram", H5T_NATIVE_FLOAT);
    v.n = int64_t(v.found.size());
    v.partition = m["partition"];
    return v;
  }
  ADD_FAILURE() << id << " is not in " << dir;
  return v;
}

// The annotation's value as avf must store it: -5 is no label (NaN), never a value.
bool same_label(float stored, const std::string& text) {
  if (text == "-5") return std::isnan(stored);
  return stored == static_cast<float>(std::strtod(text.c_str(), nullptr));
}

// A cropped_aligned image as the shards must hold it: resized with INTER_AREA, RGB.
cv::Mat aligned_face(const std::string& name, size_t frame) {
  char file[32];
  std::snprintf(file, sizeof file, "/%05zu.jpg", frame + 1);
  const cv::Mat img = cv::imread(corpus() + "/cropped_aligned/" + name + file, cv::IMREAD_COLOR);
  EXPECT_FALSE(img.empty()) << name << file;
  cv::Mat rgb;
  cv::resize(img, rgb, cv::Size(kFace, kFace), 0, 0, cv::INTER_AREA);
  cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat face_of(const ShardVideo& v, int64_t k) {
  return cv::Mat(kFace, kFace, CV_8UC3, const_cast<uint8_t*>(v.faces.data()) + k * kFace * kFace * 3).clone();
}

std::string preprocess(const std::string& out, const std::string& extra = "") {
  const auto r = run_command(avf_bin + " preprocess --layout affwild2 --input " + corpus() + " --output " + out +
                             " --face-size " + std::to_string(kFace) + " --progress off " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// Labels: output frame k (time k / fps from the first frame) holds the annotation line of the source
// frame nearest that time, -5 as NaN for that target only.
void expect_labels_of_nearest_source_frames(const Rendered& r, const ShardVideo& v) {
  SCOPED_TRACE(r.name + " (" + r.fps + " fps)");
  EXPECT_EQ(v.n, 100);  // 4 s at 25 fps, whatever the source's rate
  ASSERT_EQ(v.labels.size(), size_t(v.n) * 2);
  int nan_both = 0, nan_valence_only = 0, nan_arousal_only = 0;
  for (int64_t k = 0; k < v.n; ++k) {
    const size_t j = nearest(r.time, r.time[0] + k / kFps);
    EXPECT_TRUE(same_label(v.labels[2 * k], r.valence[j])) << "frame " << k << " source " << j;
    EXPECT_TRUE(same_label(v.labels[2 * k + 1], r.arousal[j])) << "frame " << k << " source " << j;
    const bool nv = std::isnan(v.labels[2 * k]), na = std::isnan(v.labels[2 * k + 1]);
    nan_both += nv && na, nan_valence_only += nv && !na, nan_arousal_only += na && !nv;
  }
  // Each video has -5 stretches in both columns and in each column alone: NaN is per target.
  EXPECT_GT(nan_both, 0);
  EXPECT_GT(nan_valence_only, 0);
  EXPECT_GT(nan_arousal_only, 0);
}

// Detected faces: found where the person's face is visible and the box on the face that was drawn.
void expect_detected_where_drawn(const Rendered& r, const ShardVideo& v) {
  SCOPED_TRACE(r.name + " (detected)");
  int visible = 0, found_visible = 0, found = 0, on_face = 0;
  for (int64_t k = 0; k < v.n; ++k) {
    const size_t j = nearest(r.time, r.time[0] + k / kFps);
    visible += r.face[j];
    found_visible += r.face[j] && v.found[k];
    if (!v.found[k]) continue;
    ++found;
    const cv::Rect2f drawn = r.box[j];
    const float cx = v.boxes[4 * k] + v.boxes[4 * k + 2] / 2, cy = v.boxes[4 * k + 1] + v.boxes[4 * k + 3] / 2;
    on_face += std::hypot(cx - (drawn.x + drawn.width / 2), cy - (drawn.y + drawn.height / 2)) < 0.3f * drawn.width;
  }
  EXPECT_GE(found_visible, 0.8 * visible) << found_visible << " of " << visible << " visible faces found";
  EXPECT_GE(on_face, 0.9 * found) << on_face << " of " << found << " boxes on the drawn face";
}

}  // namespace

// Default --face-source auto: cropped_aligned where the video has it, detection where not.
TEST(PreprocessAffWild2, LabelsAndCroppedAlignedFacesOfTheNearestSourceFrame) {
  const std::string out = fs::path(corpus()).parent_path().string() + "/auto";
  const std::string log = preprocess(out);
  EXPECT_TRUE(contains(log, "summary: 6 videos ok (0 unchanged and skipped), 0 failed")) << log;
  const json m = read_json(out + "/manifest.json");
  EXPECT_EQ(m["targets"], json({"valence", "arousal"}));
  EXPECT_EQ(m["params"]["face_source"], "auto");
  const auto all = rendered();
  ASSERT_EQ(all.size(), 6u);
  std::set<std::string> rates;
  for (const auto& r : all) {
    const ShardVideo v = read_video(out, r.name);
    EXPECT_EQ(v.partition, r.set == "Train_Set" ? "train" : "dev") << r.name;
    rates.insert(r.fps);
    expect_labels_of_nearest_source_frames(r, v);
    if (!r.has_aligned) {
      expect_detected_where_drawn(r, v);
      continue;
    }
    // cropped_aligned: found exactly where the source frame has its image, which is the face shown;
    // a frame without one keeps the face before it (black before the first) and is not found.
    SCOPED_TRACE(r.name + " (cropped_aligned)");
    cv::Mat last(kFace, kFace, CV_8UC3, cv::Scalar::all(0));
    int gaps = 0;
    for (int64_t k = 0; k < v.n; ++k) {
      const size_t j = nearest(r.time, r.time[0] + k / kFps);
      ASSERT_EQ(v.found[k], r.cropped[j]) << "frame " << k << " source " << j;
      if (r.cropped[j]) last = aligned_face(r.name, j);
      gaps += !r.cropped[j];
      EXPECT_EQ(cv::norm(face_of(v, k), last, cv::NORM_INF), 0) << "frame " << k << " source " << j;
    }
    EXPECT_GT(gaps, 0);  // the corpus has frames without a face in each of them
  }
  EXPECT_EQ(rates, (std::set<std::string>{"25", "30", "vfr"}));
  // Nothing changed: a second run skips every shard.
  EXPECT_TRUE(contains(preprocess(out), "6 unchanged and skipped"));
}

// --face-source detect: the faces come from the video; of the pair, each annotation gets its own
// person's face (left and right), and both get the one audio track.
TEST(PreprocessAffWild2, LeftAndRightPeopleOfOneVideoGetTheirOwnFaceAndTheSameAudio) {
  const std::string out = fs::path(corpus()).parent_path().string() + "/detect";
  preprocess(out, "--face-source detect");
  EXPECT_EQ(read_json(out + "/manifest.json")["params"]["face_source"], "detect");
  std::map<std::string, ShardVideo> videos;
  for (const auto& r : rendered()) {
    if (r.side.empty()) continue;
    videos[r.side] = read_video(out, r.name);
    expect_labels_of_nearest_source_frames(r, videos[r.side]);
    expect_detected_where_drawn(r, videos[r.side]);
  }
  ASSERT_EQ(videos.size(), 2u);
  const ShardVideo &left = videos["left"], &right = videos["right"];
  ASSERT_EQ(left.n, right.n);
  EXPECT_EQ(left.spectrogram, right.spectrogram);  // one audio track, bit for bit
  EXPECT_NE(left.labels, right.labels);            // each person's own annotation
  // Different people: the crops differ a lot wherever both faces were found, and the left one's box
  // is always left of the right one's.
  int both = 0, different = 0;
  for (int64_t k = 0; k < left.n; ++k) {
    if (!left.found[k] || !right.found[k]) continue;
    ++both;
    cv::Mat diff;
    cv::absdiff(face_of(left, k), face_of(right, k), diff);
    different += cv::mean(diff)[0] + cv::mean(diff)[1] + cv::mean(diff)[2] > 3 * 20;
    EXPECT_LT(left.boxes[4 * k] + left.boxes[4 * k + 2], right.boxes[4 * k]) << "frame " << k;
  }
  EXPECT_GT(both, 50);
  EXPECT_EQ(different, both);
}

TEST(PreprocessAffWild2, BadAnnotationsAndMissingVideosFailTheirVideoWithClearMessages) {
  const std::string base = make_temp_dir("avf-affwild2-bad");
  const std::string c = base + "/corpus", va = c + "/VA_Estimation_Challenge";
  ASSERT_EQ(run_command("cp -r " + corpus() + " " + c).exit_code, 0);
  ASSERT_EQ(run_command("set -e; cd " + va + "; sed -i '10s/.*/0.1,oops/' Train_Set/1-30-192x144.txt; " +
                        "head -n 61 Validation_Set/3-30-192x144.txt > t && mv t Validation_Set/3-30-192x144.txt; " +
                        "printf 'valence,arousal\\n0,0\\n' > Validation_Set/ghost.txt; " +
                        "sed -i '1s/.*/arousal,valence/' Train_Set/2-25-192x144.txt")
                .exit_code,
            0);
  const auto r = run_command(avf_bin + " preprocess --layout affwild2 --input " + c + " --output " + base +
                             "/shards --face-size 16 --progress off");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "failed 1-30-192x144: " + va +
                                     "/Train_Set/1-30-192x144.txt:10: arousal 'oops' is not a number; expected a value "
                                     "in [-1, 1], or -5 for no label"))
      << r.output;
  EXPECT_TRUE(
      contains(r.output, "failed 2-25-192x144: " + va +
                             "/Train_Set/2-25-192x144.txt:1: header 'arousal,valence'; expected valence,arousal"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "failed 3-30-192x144: " + va +
                                     "/Validation_Set/3-30-192x144.txt: mismatched lengths: 60 label lines but the "
                                     "video has 120 frames (2.00 s apart at 30 fps)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "failed ghost: " + va +
                                     "/Validation_Set/ghost.txt: no video ghost.mp4 (or .avi, ...) "
                                     "under the video folders of " +
                                     c))
      << r.output;
  EXPECT_TRUE(contains(r.output, "summary: 3 videos ok (0 unchanged and skipped), 4 failed")) << r.output;

  const auto usage = run_command(avf_bin + " preprocess --layout affwild2 --input " + c + " --output " + base +
                                 "/x --face-source openface");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(
      usage.output,
      "avf preprocess: error: command line: --face-source 'openface': expected auto, cropped-aligned or detect\n");
  const auto other = run_command(avf_bin + " preprocess --layout faces --input " + c + " --output " + base +
                                 "/x --face-source detect");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_EQ(other.output,
            "avf preprocess: error: command line: --face-source detect applies to --layout affwild2 only (this is "
            "--layout faces)\n");
}

TEST(MakeCorpusAffWild2, IsDeterministicBySeed) {
  const std::string tool = std::string(AVF_SOURCE_DIR) +
                           "/tools/make-corpus --layout affwild2 --videos 2 --seconds 3 "
                           "--width 96 --height 72 --face-size 32 --output ";
  const std::string a = make_temp_dir("avf-aw2-a"), b = make_temp_dir("avf-aw2-b"), c = make_temp_dir("avf-aw2-c");
  for (const auto& [dir, seed] : {std::pair{a, 3}, {b, 3}, {c, 4}})
    ASSERT_EQ(run_command(tool + dir + "/c --seed " + std::to_string(seed)).exit_code, 0);
  // Every file, listed with its sha256: the same seed gives the same corpus.
  auto listing = [](const std::string& dir) {
    return run_command("cd " + dir + "/c && find . -type f | sort | xargs sha256sum").output;
  };
  EXPECT_EQ(listing(a), listing(b));
  EXPECT_NE(listing(a), listing(c));
  EXPECT_TRUE(contains(listing(a), "./videos/batch1/video3.mp4")) << listing(a);
  EXPECT_TRUE(contains(listing(a), "./VA_Estimation_Challenge/Train_Set/video3_right.txt")) << listing(a);
}
