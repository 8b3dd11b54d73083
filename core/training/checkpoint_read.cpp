// Reading checkpoints outside the store: loading one (every file verified against its size and
// sha256), recognising one, and `avf inspect` on one.
#include <fmt/format.h>

#include <iostream>

#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/training/checkpoint_format.h"
#include "core/training/checkpoint_store.h"

namespace avf {
using nlohmann::json;
using namespace checkpoint_format;

Checkpoint load_checkpoint(const std::string& path, CheckpointParts parts) {
  Checkpoint c;
  c.path = path;
  c.metadata = read_metadata(path);
  const auto verified = [&](const char* name) {
    const std::string file = path + "/" + name;
    const json expected = c.metadata["files"].value(name, json::object());
    if (!expected.contains("bytes") || !expected.contains("sha256"))
      throw CheckpointError(fmt::format("{}/{}: no size and sha256 for {}", path, kMetadata, name));
    std::string data;
    try {
      data = read_file(file);
    } catch (const FileError& e) {
      throw CheckpointError(e.what());
    }
    const auto bytes = expected["bytes"].get<size_t>();
    const auto sha = expected["sha256"].get<std::string>();
    const std::string actual = sha256_hex(data);
    if (data.size() != bytes || actual != sha)
      throw CheckpointError(fmt::format("{}: {}: expected {} bytes with sha256 {}, found {} bytes with sha256 {}", file,
                                        data.size() < bytes ? "truncated" : "corrupt", bytes, sha, data.size(),
                                        actual));
    return data;
  };
  try {
    c.payload.epoch = c.metadata.at("epoch").get<int64_t>();
    c.payload.step = c.metadata.at("step").get<int64_t>();
    c.payload.model = verified(kModel);
    if (parts == CheckpointParts::weights) return c;
    c.payload.optimizer = verified(kOptimizer);
    const std::string state = verified(kState);
    c.payload.state = json::from_cbor(state);
  } catch (const json::exception& e) {
    throw CheckpointError(fmt::format("{}: invalid metadata or state: {}", path, e.what()));
  }
  return c;
}

bool is_checkpoint(const std::string& path) {
  try {
    read_metadata(path);
    return true;
  } catch (const CheckpointError&) {
    return false;
  }
}

std::string describe_checkpoint(const std::string& path) {
  const json meta = read_metadata(path);
  try {
    const auto field = [](const char* label) { return fmt::format("{:<13}", label); };
    std::string out = field("checkpoint") + path + "\n";
    out += field("epoch") + std::to_string(meta.at("epoch").get<int64_t>()) + "\n";
    out += field("step") + std::to_string(meta.at("step").get<int64_t>()) + "\n";
    const std::string metric = meta.value("metric", "");
    if (meta.contains("metrics") && meta["metrics"].is_object()) {
      out += field("metric") + fmt::format("{} = {:.4f}\n", metric, number_or_nan(meta["score"]));
      const Metrics m = metrics_from_json(meta["metrics"]);
      for (const auto& [label, values] : {std::pair{"ccc", &m.ccc}, std::pair{"other", &m.other}}) {
        if (values->empty()) continue;
        std::string line;
        for (const auto& [k, v] : *values) line += fmt::format("{}{} {:.4f}", line.empty() ? "" : ", ", k, v);
        out += field(label) + line + "\n";
      }
    } else {
      out += field("metric") + metric + " (saved without validation)\n";
    }
    out += field("world size") + std::to_string(meta.value("world_size", 0)) + "\n";
    const json code = meta.value("code", json::object());
    out += field("code") + fmt::format("avf {}, commit {}\n", code.value("version", "?"), code.value("commit", "?"));
    out += field("created") + meta.value("created", "?") + "\n";
    std::string files_label = "files";
    for (const auto& [name, f] : meta.at("files").items()) {
      out += field(files_label.c_str()) +
             fmt::format("{:<13} {:>12} bytes  sha256 {}\n", name, f.value("bytes", size_t{0}), f.value("sha256", "?"));
      files_label.clear();
    }
    std::string keys;
    for (const auto& k : meta.value("state_keys", json::array()))
      keys += (keys.empty() ? "" : ", ") + k.get<std::string>();
    out += field("state") + keys + "\n";
    out += "config\n";
    std::string config = meta.value("config", "");
    for (size_t start = 0; start < config.size();) {
      const size_t end = config.find('\n', start);
      out += "  " + config.substr(start, end - start) + "\n";
      start = end == std::string::npos ? config.size() : end + 1;
    }
    return out;
  } catch (const json::exception& e) {
    throw CheckpointError(fmt::format("{}/{}: {}", path, kMetadata, e.what()));
  }
}

int inspect_checkpoint(const std::string& path) {
  try {
    std::cout << describe_checkpoint(path) << std::flush;
    load_checkpoint(path);
    std::cout << "verified     every file matches its size and sha256\n";
    return exit_code::ok;
  } catch (const CheckpointError& e) {
    std::cerr << "avf inspect: error: " << e.what() << "\n";
    return exit_code::failure;
  }
}

}  // namespace avf
