// `avf inspect <shard.h5|dir> [--verify]`: what a dataset holds, and whether it is intact.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/h5.h"
#include "core/base/subcommand.h"
#include "core/data/shard_format.h"
#include "preprocess/shard_summary.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;

namespace avf {
namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return fmt::format(u == 0 ? "{:.0f} {}" : "{:.1f} {}", b, units[u]);
}

std::vector<float> read_floats(hid_t dataset, size_t n, const std::string& where) {
  std::vector<float> v(n);
  if (n) h5::check(H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), where, "cannot read");
  return v;
}

struct Totals {
  int64_t videos = 0, frames = 0, face_frames = 0;
  uint64_t bytes = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> partitions;  // videos, frames
  std::string params, face_shape, freq_bins, targets;
  double fps = 0;
  std::vector<std::string> failed;
};

// Checks one video group's shapes and values; returns the problems found.
std::vector<std::string> verify_video(hid_t file, const std::string& shard, const std::string& id,
                                      std::map<std::string, int64_t>& label_nans) {
  std::vector<std::string> problems;
  h5::Handle g(H5Gopen2(file, id.c_str(), H5P_DEFAULT));
  const hsize_t n = hsize_t(h5::read_int_attr(g, shard::kAttrNFrames));
  auto open = [&](const char* name) {
    h5::Handle d(H5Dopen2(g, name, H5P_DEFAULT));
    if (d.get() < 0) problems.push_back(fmt::format("{}: {}/{} is missing", shard, id, name));
    return d;
  };
  auto expect_rows = [&](hid_t d, const char* name, size_t rank) {
    const auto shape = h5::dataset_shape(d);
    if (shape.size() != rank || shape[0] != n)
      problems.push_back(fmt::format("{}: {}/{} has shape [{}]; expected {} dimensions with n_frames = {} rows", shard,
                                     id, name, fmt::join(shape, ","), rank, n));
    return shape;
  };
  h5::Handle faces = open(shard::kFaces), found = open(shard::kFaceFound), box = open(shard::kFaceBox),
             spec = open(shard::kSpectrogram), labels = open(shard::kLabels);
  if (!problems.empty()) return problems;
  const auto fshape = expect_rows(faces, shard::kFaces, 4);
  if (fshape.size() == 4 && (fshape[1] != fshape[2] || fshape[3] != 3))
    problems.push_back(
        fmt::format("{}: {}/faces has shape [{}]; expected [N,S,S,3]", shard, id, fmt::join(fshape, ",")));
  expect_rows(found, shard::kFaceFound, 1);
  if (const auto s = expect_rows(box, shard::kFaceBox, 2); s.size() == 2 && s[1] != 4)
    problems.push_back(fmt::format("{}: {}/face_box has {} columns; expected 4", shard, id, s[1]));
  const auto sshape = expect_rows(spec, shard::kSpectrogram, 2);
  const auto lshape = expect_rows(labels, shard::kLabels, 2);
  if (!problems.empty()) return problems;
  const auto s = read_floats(spec, sshape[0] * sshape[1], fmt::format("{}: {}/spectrogram", shard, id));
  const auto bad = std::count_if(s.begin(), s.end(), [](float v) { return !std::isfinite(v); });
  if (bad) problems.push_back(fmt::format("{}: {}/spectrogram has {} NaN or infinite values", shard, id, bad));
  const auto names = h5::read_strings_attr(labels, shard::kAttrLabelNames);
  if (names.size() != lshape[1])
    problems.push_back(fmt::format("{}: {}/labels has {} columns but {} names", shard, id, lshape[1], names.size()));
  const auto l = read_floats(labels, lshape[0] * lshape[1], fmt::format("{}: {}/labels", shard, id));
  for (size_t c = 0; c < names.size() && c < lshape[1]; ++c)
    for (size_t r = 0; r < lshape[0]; ++r) label_nans[names[c]] += std::isnan(l[r * lshape[1] + c]);
  return problems;
}

}  // namespace

int cmd_inspect(const std::vector<std::string>& args) {
  CommandSpec spec{"inspect",
                   "Summarise a shard or a preprocessed dataset; --verify checks checksums, shapes and values.",
                   "avf inspect <shard.h5|dir> [--verify]"};
  std::string path;
  spec.options.add_options()("path", po::value(&path)->value_name("PATH"), "a shard or a dataset folder")(
      "verify", "check sha256 against manifest.json, dataset shapes, NaN and infinite values");
  spec.positional.add("path", 1);
  const auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  const bool verify = parsed->vm.count("verify") > 0;
  if (path.empty()) throw ConfigError("command line: expected a shard or dataset folder; usage: " + spec.usage);

  if (!fs::exists(path)) throw ConfigError(fmt::format("{}: no such file or folder", path));
  const fs::path dir = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  const fs::path manifest_path = dir / shard::kManifestFile;
  json manifest;
  if (fs::exists(manifest_path)) {
    std::ifstream in(manifest_path);
    try {
      manifest = json::parse(in);
    } catch (const json::exception& e) {
      throw std::runtime_error(fmt::format("{}: not valid JSON ({})", manifest_path.string(), e.what()));
    }
  }
  std::vector<fs::path> shards;
  if (!fs::is_directory(path)) {
    shards.push_back(path);
  } else if (manifest.is_object()) {
    for (const auto& s : manifest["shards"]) shards.push_back(dir / s["file"].get<std::string>());
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".h5") shards.push_back(e.path());
    std::sort(shards.begin(), shards.end());
  }
  if (shards.empty()) throw std::runtime_error(fmt::format("{}: no shards", path));

  Totals t;
  std::vector<std::string> problems;
  std::map<std::string, int64_t> label_nans;
  std::map<std::string, std::string> manifest_sha;
  if (manifest.is_object())
    for (const auto& s : manifest["shards"]) manifest_sha[s["file"]] = s["sha256"];
  for (const auto& file : shards) {
    const std::string name = file.filename().string();
    if (!fs::exists(file)) {
      problems.push_back(fmt::format("{}: listed in the manifest but missing", file.string()));
      continue;
    }
    const auto info = pre::read_shard_info(file.string());
    t.bytes += fs::file_size(file);
    t.params = info.params;
    for (const auto& f : json::parse(info.failed))
      t.failed.push_back(fmt::format("{}: {}", f["id"].get<std::string>(), f["reason"].get<std::string>()));
    h5::Handle h = h5::open_read_only(file.string());
    for (const auto& v : info.videos) {
      ++t.videos;
      t.frames += v.n_frames;
      t.face_frames += v.face_frames;
      auto& p = t.partitions[v.partition];
      ++p.first;
      p.second += v.n_frames;
      h5::Handle g(H5Gopen2(h, v.id.c_str(), H5P_DEFAULT));
      t.fps = h5::read_double_attr(g, shard::kAttrFps);
      h5::Handle faces(H5Dopen2(g, shard::kFaces, H5P_DEFAULT)), spec_d(H5Dopen2(g, shard::kSpectrogram, H5P_DEFAULT)),
          labels(H5Dopen2(g, shard::kLabels, H5P_DEFAULT));
      if (faces.get() >= 0) {
        const auto shape = h5::dataset_shape(faces);
        t.face_shape = fmt::format("{}", fmt::join(shape.begin() + 1, shape.end(), "x"));
      }
      if (spec_d.get() >= 0) t.freq_bins = std::to_string(h5::dataset_shape(spec_d).back());
      if (labels.get() >= 0)
        t.targets = fmt::format("{}", fmt::join(h5::read_strings_attr(labels, shard::kAttrLabelNames), ", "));
      if (verify) {
        auto p2 = verify_video(h, name, v.id, label_nans);
        problems.insert(problems.end(), p2.begin(), p2.end());
      }
    }
    if (verify) {
      if (!manifest.is_object()) {
        problems.push_back(fmt::format("{}: no manifest.json to check checksums against", dir.string()));
      } else if (!manifest_sha.count(name)) {
        problems.push_back(fmt::format("{}: not listed in manifest.json", name));
      } else if (const std::string sha = sha256_file(file.string()); sha != manifest_sha[name]) {
        problems.push_back(fmt::format("{}: sha256 {} differs from the manifest's {}", name, sha, manifest_sha[name]));
      }
    }
  }
  std::vector<std::string> parts;
  for (const auto& [name, c] : t.partitions)
    parts.push_back(fmt::format("{} {} videos/{} frames", name, c.first, c.second));
  std::string out;
  out += fmt::format("{:<12}{}\n", "path", path);
  out += fmt::format("{:<12}{} ({})\n", "shards", shards.size(), human_bytes(t.bytes));
  out += fmt::format("{:<12}{} ({})\n", "videos", t.videos, fmt::join(parts, ", "));
  out += fmt::format("{:<12}{} ({:.1f} s at {} fps)\n", "frames", t.frames, t.fps > 0 ? t.frames / t.fps : 0.0, t.fps);
  out += fmt::format("{:<12}{} uint8 RGB per frame; face found in {:.1f}% of frames\n", "faces", t.face_shape,
                     t.frames ? 100.0 * t.face_frames / t.frames : 0.0);
  out += fmt::format("{:<12}{} bins (log-power dB)\n", "spectrogram", t.freq_bins);
  out += fmt::format("{:<12}{}\n", "targets", t.targets);
  out += fmt::format("{:<12}{}\n", "failed", t.failed.size());
  for (const auto& f : t.failed) out += fmt::format("  {}\n", f);
  out += fmt::format("{:<12}{}\n", "params", t.params);
  if (verify) {
    for (const auto& [name, n] : label_nans)
      out += fmt::format("{:<12}{}: {} of {} frames missing (NaN)\n", "labels", name, n, t.frames);
    for (const auto& p : problems) out += fmt::format("problem     {}\n", p);
    out += problems.empty() ? fmt::format("verify      ok: {} shards, checksums, shapes and values\n", shards.size())
                            : fmt::format("verify      FAILED: {} problems\n", problems.size());
  }
  std::fputs(out.c_str(), stdout);
  return problems.empty() ? exit_code::ok : exit_code::failure;
}

}  // namespace avf
