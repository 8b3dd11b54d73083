#include "preprocess/shard_summary.h"

#include <fmt/format.h>

#include <numeric>
#include <stdexcept>

#include "core/base/h5.h"
#include "core/data/shard_format.h"

namespace avf::pre {

ShardInfo read_shard_info(const std::string& path) {
  h5::Handle file = h5::open_read_only(path);
  if (!h5::has_attr(file, shard::kAttrFormat) || h5::read_string_attr(file, shard::kAttrFormat) != shard::kFormat)
    throw std::runtime_error(fmt::format("{}: not an avf shard (no format=\"{}\" attribute)", path, shard::kFormat));
  if (const int64_t v = h5::read_int_attr(file, shard::kAttrVersion); v != shard::kVersion)
    throw std::runtime_error(
        fmt::format("{}: shard format version {}; this avf reads version {}", path, v, shard::kVersion));
  ShardInfo info;
  info.params = h5::read_string_attr(file, shard::kAttrParams);
  info.inputs_sha256 = h5::read_string_attr(file, shard::kAttrInputsSha256);
  info.failed = h5::has_attr(file, shard::kAttrFailed) ? h5::read_string_attr(file, shard::kAttrFailed) : "[]";
  for (const auto& id : h5::child_names(file)) {
    h5::Handle group =
        h5::check(H5Gopen2(file, id.c_str(), H5P_DEFAULT), path, fmt::format("cannot open group '{}'", id));
    ShardVideo v;
    v.id = id;
    v.partition = h5::read_string_attr(group, shard::kAttrPartition);
    v.n_frames = h5::read_int_attr(group, shard::kAttrNFrames);
    h5::Handle found = h5::check(H5Dopen2(group, shard::kFaceFound, H5P_DEFAULT), path,
                                 fmt::format("{}: no {}", id, shard::kFaceFound));
    std::vector<uint8_t> flags(v.n_frames);
    if (h5::dataset_shape(found) != std::vector<hsize_t>{hsize_t(v.n_frames)})
      throw std::runtime_error(
          fmt::format("{}: {}/{} does not have n_frames = {} rows", path, id, shard::kFaceFound, v.n_frames));
    h5::check(H5Dread(found, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, flags.data()), path,
              fmt::format("cannot read {}/{}", id, shard::kFaceFound));
    v.face_frames = std::accumulate(flags.begin(), flags.end(), int64_t{0});
    info.videos.push_back(v);
  }
  return info;
}

}  // namespace avf::pre
