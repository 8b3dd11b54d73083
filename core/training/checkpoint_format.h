// The on-disk form of one checkpoint directory, shared by the store that writes and rotates them
// (checkpoint_store.cpp) and the readers (checkpoint_read.cpp): its file names, metadata.json and the
// metrics in it. Internal to core/training.
#pragma once
#include <nlohmann/json.hpp>

#include <limits>
#include <string>

#include "core/training/checkpoint_store.h"

namespace avf::checkpoint_format {

inline constexpr const char* kFormat = "avf-checkpoint";
inline constexpr int kFormatVersion = 1;
inline constexpr const char* kMetadata = "metadata.json";
inline constexpr const char* kModel = "model.pt";
inline constexpr const char* kOptimizer = "optimizer.pt";
inline constexpr const char* kState = "state.cbor";
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON has no NaN: a NaN CCC is written as null and read back as NaN.
nlohmann::json number_or_null(double v);
double number_or_nan(const nlohmann::json& j);
nlohmann::json to_json(const Metrics& m);
Metrics metrics_from_json(const nlohmann::json& j);
std::string utc_now();  // "2026-12-01T03:49:58Z"
// Parses and checks <path>/metadata.json (not the checksums of the other files); throws CheckpointError.
nlohmann::json read_metadata(const std::string& path);

}  // namespace avf::checkpoint_format
