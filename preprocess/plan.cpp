#include "preprocess/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace avf::pre {

std::vector<PlannedShard> plan_shards(const std::vector<int64_t>& frames, uint64_t bytes_per_frame, uint64_t shard_size,
                                      int world_size) {
  std::vector<size_t> order;
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i] >= 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return frames[a] > frames[b]; });
  // No shard larger than an even share of the dataset, so every rank has shards to write.
  uint64_t total = 0;
  for (size_t i : order) total += uint64_t(frames[i]) * bytes_per_frame;
  const uint64_t cap = std::min(shard_size, std::max<uint64_t>(1, (total + world_size - 1) / world_size));
  std::vector<PlannedShard> shards;
  for (size_t i : order) {
    const uint64_t bytes = uint64_t(frames[i]) * bytes_per_frame;
    if (shards.empty() || shards.back().bytes + bytes > cap) {
      shards.emplace_back();
      shards.back().index = int(shards.size()) - 1;
    }
    shards.back().videos.push_back(i);
    shards.back().bytes += bytes;
  }
  std::vector<uint64_t> load(world_size, 0);
  std::vector<size_t> by_size(shards.size());
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return shards[a].bytes > shards[b].bytes; });
  for (size_t s : by_size) {
    const int r = int(std::min_element(load.begin(), load.end()) - load.begin());
    shards[s].rank = r;
    load[r] += shards[s].bytes;
  }
  return shards;
}

uint64_t parse_size(const std::string& text) {
  static const std::pair<const char*, double> units[] = {
      {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
      {"K", 1024.0},   {"M", 1024.0 * 1024},   {"G", 1024.0 * 1024 * 1024},   {"B", 1.0}};
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  double scale = 1;
  const std::string unit = end > 0 ? text.substr(end) : "";
  bool known = unit.empty();
  for (const auto& [name, s] : units)
    if (unit == name) scale = s, known = true;
  if (end == 0 || !known || !(value > 0))
    throw std::invalid_argument(fmt::format(
        "size '{}': expected a positive number with an optional unit (B, KiB, MiB, GiB, KB, MB, GB)", text));
  return static_cast<uint64_t>(std::llround(value * scale));
}

}  // namespace avf::pre
