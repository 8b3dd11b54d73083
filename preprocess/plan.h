// Which videos go into which shard and which rank writes it. Deterministic for a given input list,
// parameters, shard size and world size, so a re-run finds the same shards to skip.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace avf::pre {

struct PlannedShard {
  int index = 0;               // shard-<index>.h5
  std::vector<size_t> videos;  // indices into the dataset's videos, longest first
  uint64_t bytes = 0;          // estimated size before compression
  int rank = 0;
};

// Videos are taken longest first (ties by index) and packed into shards of whole videos up to
// shard_size, or an even share of the dataset per rank if smaller (a longer video gets a shard of
// its own); shards then go to the least-loaded rank, largest first. frames[i] < 0 marks a video left out (it failed
// probing).
std::vector<PlannedShard> plan_shards(const std::vector<int64_t>& frames, uint64_t bytes_per_frame, uint64_t shard_size,
                                      int world_size);

// "2GiB", "500MB", "64KiB", "1048576" -> bytes. Throws std::invalid_argument.
uint64_t parse_size(const std::string& text);

}  // namespace avf::pre
