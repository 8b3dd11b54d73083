// The configuration schema (one row per key: name, field, help, choices) and its validation: about 400
// lines, most of them the schema table, which reads best whole.
#include "core/base/config.h"

#include "core/base/text.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/base/ini.h"

namespace po = boost::program_options;

namespace avf {
namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

[[noreturn]] void bad_value(const std::string& where, const std::string& key, const std::string& value,
                            const std::string& expected) {
  throw ConfigError(fmt::format("{}: bad value for '{}': '{}' (expected {})", where, key, value, expected));
}

// Text -> field conversions. Each one rejects trailing garbage so "1e-3x" is not silently 1e-3.
template <class T>
T parse_value(const std::string& text, const std::string& where, const std::string& key);

template <>
std::string parse_value<std::string>(const std::string& text, const std::string&, const std::string&) {
  return text;
}

template <>
double parse_value<double>(const std::string& text, const std::string& where, const std::string& key) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    bad_value(where, key, text, "a number");
  }
  if (used != text.size()) bad_value(where, key, text, "a number");
  return v;
}

template <>
int parse_value<int>(const std::string& text, const std::string& where, const std::string& key) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    bad_value(where, key, text, "an integer");
  }
  if (used != text.size() || v < INT32_MIN || v > INT32_MAX) bad_value(where, key, text, "an integer");
  return static_cast<int>(v);
}

template <>
uint64_t parse_value<uint64_t>(const std::string& text, const std::string& where, const std::string& key) {
  size_t used = 0;
  unsigned long long v = 0;
  if (text.empty() || text[0] == '-') bad_value(where, key, text, "a non-negative integer");
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    bad_value(where, key, text, "a non-negative integer");
  }
  if (used != text.size()) bad_value(where, key, text, "a non-negative integer");
  return v;
}

template <>
bool parse_value<bool>(const std::string& text, const std::string& where, const std::string& key) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  bad_value(where, key, text, "true or false");
}

template <>
std::vector<std::string> parse_value<std::vector<std::string>>(const std::string& text, const std::string& where,
                                                               const std::string& key) {
  std::vector<std::string> out;
  // An empty value is an empty list: how config_to_ini writes one (data.label-shift's default), so
  // every written configuration reads back (sweep trials, checkpoints). validate() rejects no targets.
  if (trim(text).empty()) return out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    item = trim(item);
    if (item.empty()) bad_value(where, key, text, "a comma-separated list without empty items");
    out.push_back(item);
  }
  return out;
}

template <class T>
std::string format_value(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return join(v, ",");
  } else {
    return fmt::format("{}", v);
  }
}

}  // namespace

template <class T>
void ConfigSchema::add(const std::string& key, T* field, const std::string& help, std::vector<std::string> choices) {
  Entry e;
  e.help = choices.empty() ? help : fmt::format("{} ({})", help, join(choices, " | "));
  e.set = [field, choices](const std::string& value, const std::string& where, const std::string& k) {
    T parsed = parse_value<T>(value, where, k);
    if constexpr (std::is_same_v<T, std::string>) {
      if (!choices.empty() && std::find(choices.begin(), choices.end(), parsed) == choices.end())
        bad_value(where, k, value, "one of " + join(choices, ", "));
    }
    *field = std::move(parsed);
  };
  e.get = [field] { return format_value(*field); };
  entries_.emplace(key, std::move(e));
}

ConfigSchema::ConfigSchema(Config& c) {
  add("data.shards", &c.data.shards, "directory holding manifest.json and the HDF5 shards");
  add("data.features", &c.data.features, "directory of extracted features (fusion stage)");
  add("data.targets", &c.data.targets, "comma-separated target names to predict");
  add("data.sequence-frames", &c.data.sequence_frames, "frames per training sequence");
  add("data.subsequence-frames", &c.data.subsequence_frames, "frames per sub-sequence (one I3D clip)");
  add("data.stride", &c.data.stride,
      "frames between the starts of consecutive training sequences (any >= 1; the fusion stage: offsets the "
      "features were extracted at, see avf extract --offsets)");
  add("data.audio-window", &c.data.audio_window,
      "spectrogram rows per audio window, centred on the sub-sequence (40 ms each; 10 ms with the authors' audio "
      "front-end)");
  add("data.crop-size", &c.data.crop_size, "random-crop size of face images; 0 = no crop");
  add("data.flip", &c.data.flip, "random horizontal flip of training face clips (the authors' augmentation)");
  add("data.face-policy", &c.data.face_policy, "frames without a face", {"keep", "mask", "skip"});
  add("data.min-face-rate", &c.data.min_face_rate, "with face-policy=skip: minimum face rate of a sequence");
  add("data.reader-threads", &c.data.reader_threads, "loader threads that decompress and assemble batches");
  add("data.prefetch-batches", &c.data.prefetch_batches, "batches prepared ahead of the training step");
  add("data.train-partition", &c.data.train_partition, "partition used for training");
  add("data.valid-partition", &c.data.valid_partition, "partition used for validation");
  add("data.label-shift", &c.data.label_shift,
      "annotation delay as target:seconds pairs (e.g. valence:2.32,arousal:2.72): training and validation labels "
      "at t are the annotations at t + seconds");
  add("data.label-median", &c.data.label_median, "median filter of the labels over this many frames (odd); 0 = off");

  add("model.fusion", &c.model.fusion, "fusion head",
      {"cross-attention", "cross-attention-2stage", "concat", "self-attention", "lstm", "joint-cross-attention",
       "recursive-joint-cross-attention", "gated-recursive-joint-cross-attention", "transformer"});
  add("model.width", &c.model.width, "I3D channel multiplier (1.0 = the published network)");
  add("model.feature-dim", &c.model.feature_dim, "per-sub-sequence feature size K of each modality");
  add("model.audio-width-div", &c.model.audio_width_div, "divides the audio network's channel counts");
  add("model.temperature", &c.model.temperature, "softmax temperature T of the cross-attention");
  add("model.dropout", &c.model.dropout, "dropout on the attended A-V features");
  add("model.visual-dropout", &c.model.visual_dropout, "dropout on I3D's linear layers");
  add("model.audio-dropout", &c.model.audio_dropout,
      "dropout on the input of the audio network's last linear layer (as the authors)");
  add("model.hidden", &c.model.hidden, "width of the fusion head's first fully connected layer");
  add("model.attention-dim", &c.model.attention_dim, "width k of the joint cross-attention maps H (joint heads)");
  add("model.recursions", &c.model.recursions, "iterations of the (gated) recursive joint cross-attention");
  add("model.input-lstm", &c.model.input_lstm, "BLSTM on each modality's features before the recursive joint heads");
  add("model.gate-temperature", &c.model.gate_temperature, "softmax temperature of the gated recursive head's gates");
  add("model.heads", &c.model.heads, "attention heads of the transformer fusion head (must divide the feature size)");
  add("model.inflate-from", &c.model.inflate_from, "2D Inception-v1 weights (HDF5) to inflate into I3D");
  add("model.visual-weights", &c.model.visual_weights,
      "3D I3D weights (HDF5, e.g. tools/convert-weights of pytorch-i3d) to start I3D from");

  add("train.stage", &c.train.stage, "what to train", {"visual", "audio", "fusion"});
  add("train.out", &c.train.out, "run directory for metrics, plots and checkpoints");
  add("train.optimizer", &c.train.optimizer, "optimizer (adamw: decoupled weight decay)", {"sgd", "adam", "adamw"});
  add("train.lr", &c.train.lr, "initial learning rate (the schedule's base rate)");
  add("train.momentum", &c.train.momentum, "SGD momentum");
  add("train.weight-decay", &c.train.weight_decay, "weight decay (L2 for sgd and adam, decoupled for adamw)");
  add("train.beta1", &c.train.beta1, "Adam/AdamW first-moment decay");
  add("train.beta2", &c.train.beta2, "Adam/AdamW second-moment decay");
  add("train.schedule", &c.train.schedule, "learning-rate schedule", {"constant", "step", "cosine", "plateau"});
  add("train.decay-start", &c.train.decay_start, "step schedule: epochs before the first decay");
  add("train.decay-every", &c.train.decay_every, "step schedule: epochs between decays");
  add("train.decay-factor", &c.train.decay_factor, "step and plateau schedules: factor of each decay");
  add("train.warmup-steps", &c.train.warmup_steps, "cosine schedule: optimizer steps of linear warm-up");
  add("train.min-lr", &c.train.min_lr, "cosine: the final learning rate; plateau: the lowest");
  add("train.plateau-patience", &c.train.plateau_patience,
      "plateau schedule: validations without improvement before a decay");
  add("train.batch-size", &c.train.batch_size, "sequences per rank per step");
  add("train.epochs", &c.train.epochs, "maximum number of epochs");
  add("train.patience", &c.train.patience, "early stopping: epochs without improvement; 0 = off");
  add("train.max-steps", &c.train.max_steps, "stop after this many optimizer steps; 0 = no limit");
  add("train.accumulate", &c.train.accumulate, "micro-batches accumulated per optimizer step");
  add("train.seed", &c.train.seed, "seed of every random number generator");
  add("train.threads", &c.train.threads, "intra-op threads per rank; 0 = the cores the rank is bound to");
  add("train.deterministic", &c.train.deterministic, "deterministic algorithms (bit-exact resume on CPU)");
  add("train.device", &c.train.device, "compute device", {"auto", "cpu", "cuda"});
  add("train.amp", &c.train.amp, "mixed precision: bf16 autocasts the forward pass (CUDA or CPU)", {"off", "bf16"});

  add("dist.backend", &c.dist.backend, "communicator", {"auto", "mpi", "nccl"});
  add("dist.bucket-mb", &c.dist.bucket_mb, "gradient bucket size in MiB");
  add("dist.first-bucket-mb", &c.dist.first_bucket_mb, "size of the first (last-layer) bucket in MiB");
  add("dist.gradient-sync", &c.dist.gradient_sync,
      "bucketed (overlapped with backward) or naive (one blocking all-reduce per parameter after it: the baseline)",
      {"bucketed", "naive"});
  add("dist.bind", &c.dist.bind, "hwloc binding of local ranks", {"core", "none"});
  add("dist.timeout", &c.dist.timeout, "seconds any wait on other ranks may take before the job aborts (exit 4)");
  add("dist.global-statistics", &c.dist.global_statistics,
      "CCC loss and BatchNorm over the global batch, so results do not depend on the number of ranks");
  add("dist.debug", &c.dist.debug, "check that all ranks call the same collectives with the same shapes");

  add("checkpoint.dir", &c.checkpoint.dir, "checkpoint directory; default <train.out>/checkpoints");
  add("checkpoint.metric", &c.checkpoint.metric, "validation CCC that picks best: mean or a target name");
  add("checkpoint.keep", &c.checkpoint.keep, "top-k checkpoints kept besides last and best");
  add("checkpoint.every", &c.checkpoint.every, "validate and checkpoint every N steps; 0 = each epoch");
  add("checkpoint.resume", &c.checkpoint.resume, "resume from auto (newest valid) or a checkpoint path");
  add("checkpoint.signal", &c.checkpoint.signal, "preemption signal", {"USR1", "USR2", "TERM", "INT"});
  add("checkpoint.requeue", &c.checkpoint.requeue, "scontrol requeue the SLURM job after preemption");

  add("log.all-ranks", &c.log.all_ranks, "log from every rank, not only rank 0");
  add("log.progress", &c.log.progress, "progress display", {"auto", "bar", "lines", "off"});
  add("log.interval", &c.log.interval, "seconds between plain progress lines");
  add("log.metrics", &c.log.metrics, "JSON-lines metrics file; default <train.out>/metrics.jsonl");
  add("log.diagnostics", &c.log.diagnostics,
      "metrics also get each module's gradient norm per epoch and, fusion stage, each attention map's entropy");
}

void ConfigSchema::set(const std::string& key, const std::string& value, const std::string& where) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    const std::string near = nearest(key);
    throw ConfigError(fmt::format("{}: unknown key '{}'{}", where, key,
                                  near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
  }
  it->second.set(trim(value), where, key);
}

std::vector<std::string> ConfigSchema::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries_) out.push_back(k);
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ConfigSchema::nearest(const std::string& key) const {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& [k, e] : entries_) {
    const size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  // Only suggest what is plausibly a typo: at most a third of the key changed.
  return best_d <= std::max<size_t>(2, key.size() / 3) ? best : "";
}

std::string ConfigSchema::to_ini() const {
  std::string out, section;
  for (const auto& [key, e] : entries_) {
    const auto dot = key.find('.');
    const std::string sec = key.substr(0, dot);
    if (sec != section) {
      out += fmt::format("{}[{}]\n", section.empty() ? "" : "\n", sec);
      section = sec;
    }
    out += fmt::format("{} = {}\n", key.substr(dot + 1), e.get());
  }
  return out;
}

std::string config_to_ini(const Config& config) {
  Config copy = config;
  return ConfigSchema(copy).to_ini();
}

std::string ConfigSchema::to_markdown() const {
  std::string out = "| key | default | meaning |\n| --- | --- | --- |\n";
  for (const auto& [key, e] : entries_) {
    std::string help = e.help;
    for (size_t at = help.find('|'); at != std::string::npos; at = help.find('|', at + 2)) help.replace(at, 1, "\\|");
    out += fmt::format("| `{}` | `{}` | {} |\n", key, e.get(), help);
  }
  return out;
}

void apply_config_file(Config& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("cannot open config file '{}': {}", path, std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  apply_config_text(config, text.str(), path);
}

void apply_config_text(Config& config, const std::string& text, const std::string& name) {
  // Boost parses the INI; this scan remembers where each key stands, for error messages, and refuses
  // keys given twice, of which Boost would silently keep the last.
  std::map<std::string, int> line_of = ini_key_lines(text, name);
  std::istringstream in(text);
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file(in, po::options_description(), /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("{}: {}", name, e.what()));
  }
  ConfigSchema schema(config);
  for (const auto& opt : parsed.options) {
    const auto where = fmt::format("{}:{}", name, line_of.count(opt.string_key) ? line_of[opt.string_key] : 0);
    schema.set(opt.string_key, opt.value.empty() ? "" : opt.value.front(), where);
  }
}

std::map<std::string, double> label_shifts(const Config& c) {
  std::map<std::string, double> out;
  for (const auto& pair : c.data.label_shift) {
    const auto colon = pair.rfind(':');
    const std::string target = colon == std::string::npos ? "" : pair.substr(0, colon);
    const auto& t = c.data.targets;
    double seconds = NAN;
    if (colon != std::string::npos) {
      try {
        size_t used = 0;
        seconds = std::stod(pair.substr(colon + 1), &used);
        if (used != pair.size() - colon - 1) seconds = NAN;
      } catch (const std::exception&) {
      }
    }
    if (std::isnan(seconds) || std::isinf(seconds))
      throw ConfigError(
          fmt::format("invalid configuration: data.label-shift: '{}' is not target:seconds (e.g. valence:2.32)", pair));
    if (std::find(t.begin(), t.end(), target) == t.end())
      throw ConfigError(fmt::format(
          "invalid configuration: data.label-shift: '{}' names no target of data.targets ({})", target, join(t, ", ")));
    if (!out.emplace(target, seconds).second)
      throw ConfigError(fmt::format("invalid configuration: data.label-shift: target '{}' given twice", target));
  }
  return out;
}

void validate(const Config& c) {
  auto fail = [](const std::string& msg) { throw ConfigError("invalid configuration: " + msg); };
  if (c.data.subsequence_frames <= 0 || c.data.sequence_frames % c.data.subsequence_frames != 0)
    fail(fmt::format("data.sequence-frames ({}) must be a positive multiple of data.subsequence-frames ({})",
                     c.data.sequence_frames, c.data.subsequence_frames));
  if (c.data.stride <= 0) fail(fmt::format("data.stride ({}) must be at least 1 frame", c.data.stride));
  if (c.data.audio_window <= 0) fail("data.audio-window must be positive");
  if (c.train.batch_size <= 0) fail("train.batch-size must be positive");
  if (c.train.accumulate <= 0) fail("train.accumulate must be positive");
  if (c.train.lr <= 0) fail("train.lr must be positive");
  if (c.train.epochs <= 0) fail(fmt::format("train.epochs ({}) must be positive", c.train.epochs));
  if (c.train.max_steps < 0)
    fail(fmt::format("train.max-steps ({}) must be 0 (no limit) or positive", c.train.max_steps));
  if (c.train.patience < 0) fail(fmt::format("train.patience ({}) must be 0 (off) or positive", c.train.patience));
  if (c.checkpoint.every < 0)
    fail(fmt::format("checkpoint.every ({}) must be 0 (each epoch) or a positive number of steps", c.checkpoint.every));
  if (c.checkpoint.keep < 0) fail(fmt::format("checkpoint.keep ({}) must be 0 or positive", c.checkpoint.keep));
  if (c.model.temperature <= 0) fail("model.temperature must be positive");
  if (c.model.attention_dim <= 0) fail(fmt::format("model.attention-dim ({}) must be positive", c.model.attention_dim));
  if (c.model.recursions <= 0) fail(fmt::format("model.recursions ({}) must be positive", c.model.recursions));
  if (c.model.gate_temperature <= 0) fail("model.gate-temperature must be positive");
  if (c.model.heads <= 0) fail(fmt::format("model.heads ({}) must be positive", c.model.heads));
  if (c.model.width <= 0) fail("model.width must be positive");
  if (c.dist.bucket_mb <= 0 || c.dist.first_bucket_mb <= 0)
    fail("dist.bucket-mb and dist.first-bucket-mb must be positive");
  if (c.dist.timeout <= 0) fail("dist.timeout must be positive");
  for (double p : {c.model.dropout, c.model.visual_dropout, c.model.audio_dropout})
    if (p < 0 || p >= 1) fail("dropout probabilities must lie in [0, 1)");
  if (c.train.decay_start < 0) fail(fmt::format("train.decay-start ({}) must be 0 or positive", c.train.decay_start));
  if (c.train.decay_every <= 0) fail(fmt::format("train.decay-every ({}) must be positive", c.train.decay_every));
  if (!(c.train.decay_factor > 0 && c.train.decay_factor <= 1))
    fail(fmt::format("train.decay-factor ({}) must lie in (0, 1]", c.train.decay_factor));
  if (c.train.warmup_steps < 0)
    fail(fmt::format("train.warmup-steps ({}) must be 0 or positive", c.train.warmup_steps));
  if (!(c.train.min_lr >= 0 && c.train.min_lr <= c.train.lr))
    fail(fmt::format("train.min-lr ({}) must lie in [0, train.lr = {}]", c.train.min_lr, c.train.lr));
  if (c.train.plateau_patience <= 0)
    fail(fmt::format("train.plateau-patience ({}) must be positive", c.train.plateau_patience));
  for (double b : {c.train.beta1, c.train.beta2})
    if (!(b >= 0 && b < 1)) fail(fmt::format("train.beta1 and train.beta2 must lie in [0, 1), not {}", b));
  if (c.data.label_median < 0 || (c.data.label_median > 0 && c.data.label_median % 2 == 0))
    fail(fmt::format("data.label-median ({}) must be 0 (off) or an odd number of frames", c.data.label_median));
  label_shifts(c);  // throws ConfigError naming the bad pair
  const auto& t = c.data.targets;
  if (t.empty()) fail("data.targets must name at least one target");
  if (c.checkpoint.metric != "mean" && std::find(t.begin(), t.end(), c.checkpoint.metric) == t.end())
    fail(fmt::format("checkpoint.metric '{}' is neither 'mean' nor one of data.targets ({})", c.checkpoint.metric,
                     join(t, ", ")));
}

}  // namespace avf
