#include "preprocess/inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "core/base/text.h"
#include "preprocess/labels.h"

namespace fs = std::filesystem;

namespace avf::pre {
namespace {

std::string lower_ext(const fs::path& p) { return lower(p.extension().string()); }

std::string partition_of(const std::string& id) {
  const size_t us = id.find('_');
  return us == std::string::npos ? "all" : id.substr(0, us);
}

void require_dir(const fs::path& dir, const std::string& layout) {
  if (!fs::is_directory(dir))
    throw std::runtime_error(fmt::format("{}: missing folder (required by --layout {})", dir.string(), layout));
}

// Files in `dir` with one of `exts`, by stem.
std::vector<fs::path> files_with(const fs::path& dir, const std::set<std::string>& exts) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && exts.count(lower_ext(e.path()))) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

const std::set<std::string> kVideoExts = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".mpg", ".mpeg"};
const std::set<std::string> kImageExts = {".png", ".jpg", ".jpeg", ".bmp"};

// The first file <dir>/<stem>.*; empty when none.
std::string find_by_stem(const fs::path& dir, const std::string& stem) {
  if (!fs::is_directory(dir)) return "";
  std::vector<fs::path> hits;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().stem() == stem) hits.push_back(e.path());
  std::sort(hits.begin(), hits.end());
  return hits.empty() ? "" : hits.front().string();
}

Dataset discover_avec(const fs::path& root) {
  for (const char* d : {"recordings_video", "recordings_audio", "ratings_gold_standard"})
    require_dir(root / d, "avec2016");
  Dataset ds;
  ds.label_format = "arff";
  for (const auto& e : fs::directory_iterator(root / "ratings_gold_standard"))
    if (e.is_directory()) ds.targets.push_back(e.path().filename().string());
  std::sort(ds.targets.begin(), ds.targets.end());
  if (ds.targets.empty())
    throw std::runtime_error(
        fmt::format("{}: no target folders (e.g. arousal, valence)", (root / "ratings_gold_standard").string()));
  for (const auto& video : files_with(root / "recordings_video", kVideoExts)) {
    VideoInput v;
    v.id = video.stem().string();
    v.partition = partition_of(v.id);
    v.video = video.string();
    v.audio = (root / "recordings_audio" / (v.id + ".wav")).string();
    for (const auto& t : ds.targets)
      v.label_files.push_back((root / "ratings_gold_standard" / t / (v.id + ".arff")).string());
    ds.videos.push_back(std::move(v));
  }
  return ds;
}

std::vector<std::string> csv_targets(const std::string& label_csv, const std::string& time_column) {
  return read_label_csv(label_csv, time_column).names;
}

Dataset discover_manifest(const fs::path& input, const std::string& time_column) {
  const fs::path csv = fs::is_directory(input) ? input / "manifest.csv" : input;
  std::ifstream in(csv);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the input manifest", csv.string()));
  const fs::path base = csv.parent_path();
  auto resolve = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
  Dataset ds;
  ds.label_format = "csv";
  std::string line;
  int line_no = 0;
  std::set<std::string> ids;
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    const std::vector<std::string> f = split(line, ',');
    if (line_no == 1) {
      if (line != "id,video,audio,labels,partition")
        throw std::runtime_error(
            fmt::format("{}:1: header '{}'; expected id,video,audio,labels,partition", csv.string(), line));
      continue;
    }
    if (f.size() != 5)
      throw std::runtime_error(fmt::format("{}:{}: expected 5 fields, got {}", csv.string(), line_no, f.size()));
    if (f[0].empty() || f[1].empty() || f[3].empty() || f[4].empty())
      throw std::runtime_error(
          fmt::format("{}:{}: id, video, labels and partition must not be empty", csv.string(), line_no));
    if (!ids.insert(f[0]).second)
      throw std::runtime_error(fmt::format("{}:{}: duplicate id '{}'", csv.string(), line_no, f[0]));
    VideoInput v;
    v.id = f[0];
    v.video = resolve(f[1]);
    v.audio = resolve(f[2]);
    v.label_files = {resolve(f[3])};
    v.partition = f[4];
    ds.videos.push_back(std::move(v));
  }
  if (ds.videos.empty()) throw std::runtime_error(fmt::format("{}: no videos listed", csv.string()));
  std::sort(ds.videos.begin(), ds.videos.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  ds.targets = csv_targets(ds.videos.front().label_files[0], time_column);
  return ds;
}

Dataset discover_faces(const fs::path& root, const std::string& time_column) {
  for (const char* d : {"faces", "audio", "labels"}) require_dir(root / d, "faces");
  Dataset ds;
  ds.label_format = "csv";
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root / "faces"))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    VideoInput v;
    v.id = dir.filename().string();
    v.partition = partition_of(v.id);
    for (const auto& img : files_with(dir, kImageExts)) v.face_images.push_back(img.string());
    v.audio = find_by_stem(root / "audio", v.id);
    if (v.audio.empty()) v.audio = (root / "audio" / (v.id + ".wav")).string();  // decoding names it as missing
    v.label_files = {(root / "labels" / (v.id + ".csv")).string()};
    ds.videos.push_back(std::move(v));
  }
  if (ds.videos.empty()) throw std::runtime_error(fmt::format("{}: no face folders", (root / "faces").string()));
  ds.targets = csv_targets(ds.videos.front().label_files[0], time_column);
  return ds;
}

// Aff-Wild2's annotations: <root>/VA_Estimation_Challenge, or one level down as the archives unpack
// (annotations/, "6th ABAW Annotations/", ...).
fs::path find_va_folder(const fs::path& root) {
  const std::string name = "VA_Estimation_Challenge";
  if (fs::is_directory(root / name)) return root / name;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::is_directory(e.path() / name)) found.push_back(e.path() / name);
  std::sort(found.begin(), found.end());
  if (found.empty())
    throw std::runtime_error(fmt::format(
        "{}: no {} folder, neither here nor one level down (required by --layout affwild2)", root.string(), name));
  if (found.size() > 1)
    throw std::runtime_error(fmt::format("{}: {} folders in {} and {}; expected one", root.string(), name,
                                         found[0].string(), found[1].string()));
  return found[0];
}

// The folders the Aff-Wild2 videos come in (searched with their subfolders, e.g. videos/batch1).
const char* const kAffWild2VideoDirs[] = {"videos", "raw_videos", "raw_video", "batch1",
                                          "batch2", "batch3",     "new_vids"};

// Every video file under the video folders, by stem (a stem can be found more than once).
std::map<std::string, std::vector<fs::path>> affwild2_videos(const fs::path& root) {
  std::map<std::string, std::vector<fs::path>> out;
  bool any = false;
  for (const char* d : kAffWild2VideoDirs) {
    if (!fs::is_directory(root / d)) continue;
    any = true;
    for (const auto& e : fs::recursive_directory_iterator(root / d, fs::directory_options::follow_directory_symlink))
      if (e.is_regular_file() && kVideoExts.count(lower_ext(e.path())))
        out[e.path().stem().string()].push_back(e.path());
  }
  if (!any)
    throw std::runtime_error(fmt::format(
        "{}: no video folder (videos/, raw_videos/, raw_video/, batch1/, batch2/, batch3/ or new_vids/; required by "
        "--layout affwild2)",
        root.string()));
  for (auto& [stem, paths] : out) std::sort(paths.begin(), paths.end());
  return out;
}

// cropped_aligned/<id>/NNNNN.jpg in frame order, or the reason they cannot be used.
std::vector<std::string> aligned_faces(const fs::path& dir, std::string& error) {
  std::vector<std::pair<long, std::string>> numbered;
  for (const auto& img : files_with(dir, kImageExts)) {
    const std::string stem = img.stem().string();
    if (stem.empty() || stem.size() > 9 || stem.find_first_not_of("0123456789") != std::string::npos ||
        std::stol(stem) < 1) {
      error = fmt::format(
          "{}: expected a frame number from 1 (00001.jpg, 00002.jpg, ...) as the name of a "
          "cropped_aligned face",
          img.string());
      return {};
    }
    numbered.emplace_back(std::stol(stem), img.string());
  }
  std::sort(numbered.begin(), numbered.end());
  for (size_t i = 1; i < numbered.size(); ++i)
    if (numbered[i].first == numbered[i - 1].first) {
      error = fmt::format("{} and {}: two faces for frame {}", numbered[i - 1].second, numbered[i].second,
                          numbered[i].first);
      return {};
    }
  std::vector<std::string> out;
  for (auto& [n, path] : numbered) out.push_back(std::move(path));
  return out;
}

Dataset discover_affwild2(const fs::path& root, const std::string& face_source) {
  const fs::path va = find_va_folder(root);
  const std::pair<const char*, const char*> kSets[] = {
      {"Train_Set", "train"}, {"Validation_Set", "dev"}, {"Test_Set", "test"}};
  const auto videos = affwild2_videos(root);
  Dataset ds;
  ds.label_format = "affwild2";
  ds.targets = {"valence", "arousal"};
  std::map<std::string, std::string> seen;  // id -> its annotation file
  for (const auto& [set, partition] : kSets) {
    if (!fs::is_directory(va / set)) continue;
    for (const auto& txt : files_with(va / set, {".txt"})) {
      VideoInput v;
      v.id = txt.stem().string();
      v.partition = partition;
      v.label_files = {txt.string()};
      if (!seen.emplace(v.id, txt.string()).second)
        throw std::runtime_error(
            fmt::format("{} and {}: video '{}' is annotated twice; expected one annotation file per video", seen[v.id],
                        txt.string(), v.id));
      // <name>_left / <name>_right: a person of the video <name>, unless a video of its own exists.
      std::string name = v.id;
      for (const char* side : {"left", "right"}) {
        const std::string suffix = std::string("_") + side;
        if (!videos.count(v.id) && name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
          name.resize(name.size() - suffix.size());
          v.face_side = side;
          break;
        }
      }
      const auto hit = videos.find(name);
      if (hit == videos.end()) {
        v.error = fmt::format("{}: no video {}.mp4 (or .avi, ...) under the video folders of {}", txt.string(), name,
                              root.string());
      } else if (hit->second.size() > 1) {
        v.error = fmt::format("{}: video '{}' found more than once: {} and {}", txt.string(), name,
                              hit->second[0].string(), hit->second[1].string());
      } else {
        v.video = hit->second[0].string();
      }
      const fs::path cropped = root / "cropped_aligned" / v.id;
      if (face_source != "detect" && fs::is_directory(cropped)) v.face_images = aligned_faces(cropped, v.error);
      if (face_source == "cropped-aligned" && v.face_images.empty() && v.error.empty())
        v.error =
            fmt::format("{}: no cropped_aligned faces (required by --face-source cropped-aligned)", cropped.string());
      ds.videos.push_back(std::move(v));
    }
  }
  if (ds.videos.empty())
    throw std::runtime_error(
        fmt::format("{}: no annotation files in Train_Set/, Validation_Set/ or Test_Set/", va.string()));
  std::sort(ds.videos.begin(), ds.videos.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return ds;
}

}  // namespace

Dataset discover(const std::string& layout, const std::string& input, const std::string& time_column,
                 const std::string& face_source) {
  if (!fs::exists(input)) throw std::runtime_error(fmt::format("{}: --input does not exist", input));
  if (layout == "avec2016") return discover_avec(input);
  if (layout == "manifest") return discover_manifest(input, time_column);
  if (layout == "faces") return discover_faces(input, time_column);
  if (layout == "affwild2") return discover_affwild2(input, face_source);
  throw std::invalid_argument(fmt::format("--layout '{}': expected avec2016, manifest, faces or affwild2", layout));
}

}  // namespace avf::pre
