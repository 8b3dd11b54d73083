// What a finished shard holds, read back from its attributes and small datasets: used by re-runs
// (to skip unchanged shards and still report their videos) and by `avf inspect`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace avf::pre {

struct ShardVideo {
  std::string id, partition;
  int64_t n_frames = 0, face_frames = 0;
};

struct ShardInfo {
  std::string params, inputs_sha256, failed;  // failed: JSON [{"id", "reason"}]
  std::vector<ShardVideo> videos;
};

// Throws std::runtime_error naming the file when it is not a readable avf shard of version 1.
ShardInfo read_shard_info(const std::string& path);

}  // namespace avf::pre
