#include "core/training/checkpoint_format.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "core/base/files.h"

namespace avf::checkpoint_format {
using nlohmann::json;

json number_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
double number_or_nan(const json& j) { return j.is_number() ? j.get<double>() : kNaN; }

json to_json(const Metrics& m) {
  json ccc = json::object(), other = json::object();
  for (const auto& [k, v] : m.ccc) ccc[k] = number_or_null(v);
  for (const auto& [k, v] : m.other) other[k] = number_or_null(v);
  return {{"ccc", ccc}, {"other", other}};
}

Metrics metrics_from_json(const json& j) {
  Metrics m;
  for (const auto& [k, v] : j.at("ccc").items()) m.ccc[k] = number_or_nan(v);
  for (const auto& [k, v] : j.at("other").items()) m.other[k] = number_or_nan(v);
  return m;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json read_metadata(const std::string& path) {
  const std::string file = path + "/" + kMetadata;
  std::string text;
  try {
    text = read_file(file);
  } catch (const FileError& e) {
    throw CheckpointError(fmt::format("{} is not a complete checkpoint: {}", path, e.what()));
  }
  const json meta = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) throw CheckpointError(file + ": not valid JSON (truncated or corrupt)");
  if (meta.value("format", "") != kFormat)
    throw CheckpointError(fmt::format("{}: not an avf checkpoint (expected \"format\": \"{}\")", file, kFormat));
  if (meta.value("format_version", 0) != kFormatVersion)
    throw CheckpointError(fmt::format("{}: format_version {}, but this avf reads version {}", file,
                                      meta.value("format_version", 0), kFormatVersion));
  for (const char* key : {"epoch", "step"})
    if (!meta.contains(key) || !meta[key].is_number_integer())
      throw CheckpointError(fmt::format("{}: no integer \"{}\"", file, key));
  if (!meta.contains("files") || !meta["files"].is_object())
    throw CheckpointError(fmt::format("{}: no \"files\" with checksums", file));
  return meta;
}

}  // namespace avf::checkpoint_format
