#include "core/data/feature_store.h"

#include "core/base/files.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/base/h5.h"

namespace avf {
namespace {

const char* kManifest = "features.json";
std::string rank_file(int rank) { return fmt::format("features-r{:05d}.h5", rank); }
std::string offset_group(int64_t offset) { return fmt::format("offset-{}", offset); }

void write_matrix(hid_t group, const char* name, const std::vector<float>& data, int64_t rows, int64_t cols,
                  const std::string& where) {
  if (int64_t(data.size()) != rows * cols)
    throw std::logic_error(fmt::format("{}: {} has the wrong size", where, name));
  const hsize_t dims[2] = {hsize_t(rows), hsize_t(cols)};
  h5::Handle space(H5Screate_simple(2, dims, nullptr));
  h5::Handle d = h5::check(H5Dcreate2(group, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), where,
                           fmt::format("cannot create '{}'", name));
  h5::check(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), where,
            fmt::format("cannot write '{}'", name));
}

std::vector<float> read_matrix(hid_t group, const char* name, int64_t rows, int64_t cols, const std::string& where) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0)
    throw std::runtime_error(fmt::format("{}: dataset '{}' is missing", where, name));
  h5::Handle d(H5Dopen2(group, name, H5P_DEFAULT));
  const auto dims = h5::dataset_shape(d);
  if (dims.size() != 2 || int64_t(dims[0]) != rows || (cols >= 0 && int64_t(dims[1]) != cols))
    throw std::runtime_error(
        fmt::format("{}: dataset '{}' must be [{}, {}]", where, name, rows, cols < 0 ? "K" : std::to_string(cols)));
  std::vector<float> out(dims[0] * dims[1]);
  h5::check(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), where,
            fmt::format("cannot read '{}'", name));
  return out;
}

}  // namespace

void write_features(const std::string& dir, int rank, const std::vector<VideoFeatures>& videos,
                    const std::vector<std::string>& targets) {
  std::filesystem::create_directories(dir);
  const std::string final_path = (std::filesystem::path(dir) / rank_file(rank)).string();
  const std::string partial = final_path + ".partial";
  {
    h5::Handle file =
        h5::check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), partial, "cannot create");
    const int64_t T = targets.size();
    for (const auto& v : videos) {
      const std::string where = partial + ":/" + v.id;
      h5::Handle g = h5::check(H5Gcreate2(file, v.id.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), where,
                               "cannot create group");
      h5::write_attr(g, "partition", v.partition);
      h5::write_attr(g, "n_frames", v.n_frames);
      write_matrix(g, "audio", v.audio, v.n_sub, int64_t(v.audio.size()) / v.n_sub, where);
      write_matrix(g, "visual", v.visual, v.n_sub, int64_t(v.visual.size()) / v.n_sub, where);
      write_matrix(g, "sub_labels", v.sub_labels, v.n_sub, T, where);
      write_matrix(g, "frame_labels", v.frame_labels, v.n_frames, T, where);
      for (const auto& o : v.off_grid) {
        const std::string name = offset_group(o.offset), at = where + "/" + name;
        h5::Handle og =
            h5::check(H5Gcreate2(g, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), at, "cannot create group");
        write_matrix(og, "audio", o.audio, v.n_sub, int64_t(v.audio.size()) / v.n_sub, at);
        write_matrix(og, "visual", o.visual, v.n_sub, int64_t(v.visual.size()) / v.n_sub, at);
        write_matrix(og, "sub_labels", o.sub_labels, v.n_sub, T, at);
      }
    }
  }
  std::filesystem::rename(partial, final_path);
}

void write_feature_manifest(const std::string& dir, int world_size, const std::vector<std::string>& targets,
                            const nlohmann::json& labels, const std::vector<int64_t>& offsets,
                            const nlohmann::json& throughput) {
  nlohmann::json j;
  j["format"] = "avf-features";
  j["version"] = 1;
  j["targets"] = targets;
  j["labels"] = labels;
  j["offsets"] = offsets;
  for (int r = 0; r < world_size; ++r) j["files"].push_back(rank_file(r));
  if (!throughput.is_null()) j["throughput"] = throughput;
  // What marks the features complete: written atomically and durably, or not at all.
  write_file_atomic((std::filesystem::path(dir) / kManifest).string(), j.dump(2) + "\n");
}

FeatureStore::FeatureStore(const std::string& dir) {
  const std::string manifest_path = (std::filesystem::path(dir) / kManifest).string();
  std::ifstream in(manifest_path);
  if (!in) throw std::runtime_error(fmt::format("{}: missing (run `avf extract` first)", manifest_path));
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || j.value("format", "") != "avf-features" || j.value("version", 0) != 1)
    throw std::runtime_error(fmt::format("{}: not an avf feature manifest of version 1", manifest_path));
  targets_ = j.at("targets").get<std::vector<std::string>>();
  labels_ = j.value("labels", nlohmann::json{{"label-shift", nlohmann::json::array()}, {"label-median", 0}});
  offsets_ = j.value("offsets", std::vector<int64_t>{0});
  if (offsets_.empty() || offsets_.front() != 0 || !std::is_sorted(offsets_.begin(), offsets_.end()) ||
      std::adjacent_find(offsets_.begin(), offsets_.end()) != offsets_.end())
    throw std::runtime_error(
        fmt::format("{}: 'offsets' must be increasing and start at 0, not {}", manifest_path, j["offsets"].dump()));
  const int64_t T = targets_.size();
  for (const auto& name : j.at("files")) {
    const std::string path = (std::filesystem::path(dir) / name.get<std::string>()).string();
    h5::Handle file = h5::open_read_only(path);
    for (const auto& id : h5::child_names(file)) {
      const std::string where = path + ":/" + id;
      h5::Handle g(H5Gopen2(file, id.c_str(), H5P_DEFAULT));
      VideoFeatures v;
      v.id = id;
      v.partition = h5::read_string_attr(g, "partition");
      v.n_frames = h5::read_int_attr(g, "n_frames");
      h5::Handle a(H5Dopen2(g, "audio", H5P_DEFAULT));
      const auto adims = h5::dataset_shape(a);
      if (adims.size() != 2 || adims[0] == 0) throw std::runtime_error(where + ": dataset 'audio' must be [n_sub, K]");
      v.n_sub = adims[0];
      v.audio = read_matrix(g, "audio", v.n_sub, audio_dim_ ? audio_dim_ : -1, where);
      v.visual = read_matrix(g, "visual", v.n_sub, visual_dim_ ? visual_dim_ : -1, where);
      audio_dim_ = v.audio.size() / v.n_sub;
      visual_dim_ = v.visual.size() / v.n_sub;
      v.sub_labels = read_matrix(g, "sub_labels", v.n_sub, T, where);
      v.frame_labels = read_matrix(g, "frame_labels", v.n_frames, T, where);
      for (size_t k = 1; k < offsets_.size(); ++k) {
        const std::string name = offset_group(offsets_[k]), at = where + "/" + name;
        if (H5Lexists(g, name.c_str(), H5P_DEFAULT) <= 0)
          throw std::runtime_error(
              fmt::format("{}: group '{}' is missing (features.json lists offset {})", where, name, offsets_[k]));
        h5::Handle og(H5Gopen2(g, name.c_str(), H5P_DEFAULT));
        v.off_grid.push_back({offsets_[k], read_matrix(og, "audio", v.n_sub, audio_dim_, at),
                              read_matrix(og, "visual", v.n_sub, visual_dim_, at),
                              read_matrix(og, "sub_labels", v.n_sub, T, at)});
      }
      videos_.push_back(std::move(v));
    }
  }
  // A stable order whatever the number of ranks that extracted: by video id.
  std::sort(videos_.begin(), videos_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (videos_.empty()) throw std::runtime_error(manifest_path + ": no videos");
}

}  // namespace avf
