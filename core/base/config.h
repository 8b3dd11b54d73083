// Effective configuration of a run: INI sections per area, every key overridable on the command line
// as --section.key value. Torch-free so every module and tool can use it.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace avf {

// A configuration problem the user must fix; what() names the file and line (or "command line"),
// the key, and what was expected.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DataConfig {
  std::string shards;    // directory with manifest.json + shard-*.h5
  std::string features;  // directory with extracted feature shards (fusion stage)
  std::vector<std::string> targets{"valence", "arousal"};
  int sequence_frames = 128;         // one training sequence (5.12 s at 25 fps)
  int subsequence_frames = 16;       // L = sequence_frames / subsequence_frames sub-sequences
  int stride = 128;                  // frames between consecutive training sequences
  int audio_window = 128;            // spectrogram rows (frames) per audio-network input
  int crop_size = 0;                 // visual random-crop size; 0 = the shard's face size
  bool flip = false;                 // random horizontal flip of training face clips
  std::string face_policy = "keep";  // keep | mask | skip
  double min_face_rate = 0.5;        // with face_policy=skip
  int reader_threads = 2;
  int prefetch_batches = 4;
  std::string train_partition = "train";
  std::string valid_partition = "dev";
  // Annotation delay: "target:seconds" pairs (e.g. valence:2.32); a target's label at time t is the
  // annotation made at t + seconds. Training and validation only; predictions stay on the video's axis.
  std::vector<std::string> label_shift;
  int label_median = 0;  // median filter of the labels over this many frames (odd); 0 = off
};

struct ModelConfig {
  // cross-attention | cross-attention-2stage | concat | self-attention | lstm | joint-cross-attention |
  // recursive-joint-cross-attention | gated-recursive-joint-cross-attention | transformer
  std::string fusion = "cross-attention";
  double width = 1.0;             // I3D channel multiplier
  int feature_dim = 1024;         // K: per-sub-sequence feature size of each modality
  int audio_width_div = 1;        // divides the audio network's channels (tests use tiny nets)
  double temperature = 1.0;       // T in equation 2
  double dropout = 0.5;           // on the attended A-V features
  double visual_dropout = 0.8;    // on I3D's linear layers
  double audio_dropout = 0.5;     // on the input of the audio network's last linear layer
  int hidden = 256;               // first fully connected layer of the fusion head
  int attention_dim = 32;         // k: width of the joint cross-attention maps H
  int recursions = 2;             // iterations of the recursive joint cross-attention heads
  bool input_lstm = false;        // BLSTM on each modality before the recursive heads
  double gate_temperature = 0.1;  // softmax temperature of the gated head's gates
  int heads = 4;                  // attention heads of the transformer head
  std::string visual_weights;     // optional 3D I3D weights (e.g. converted pytorch-i3d) to start from
  std::string inflate_from;       // optional 2D Inception-v1 weights to inflate into I3D
};

struct TrainConfig {
  std::string stage = "fusion";   // visual | audio | fusion
  std::string out = "run";        // run directory (metrics, checkpoints)
  std::string optimizer = "sgd";  // sgd | adam | adamw
  double lr = 1e-3;
  double momentum = 0.9;  // sgd
  double weight_decay = 5e-4;
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
  // Learning-rate schedule (core/training/lr_schedule.h): constant | step | cosine | plateau.
  std::string schedule = "constant";
  int decay_start = 0;        // step: epochs before the first decay
  int decay_every = 1;        // step: epochs between decays
  double decay_factor = 0.1;  // step, plateau: the learning rate is multiplied by this
  int warmup_steps = 0;       // cosine: linear warm-up from 0 over this many optimizer steps
  double min_lr = 0;          // cosine: the final rate; plateau: never below this
  int plateau_patience = 2;   // plateau: validations without improvement before a decay
  int batch_size = 16;        // per rank
  int epochs = 50;
  int patience = 10;   // early stopping on the checkpoint metric; 0 = off
  int max_steps = 0;   // stop after this many optimizer steps; 0 = no limit
  int accumulate = 1;  // micro-batches per optimizer step (no_sync for all but the last)
  uint64_t seed = 1;
  int threads = 0;  // intra-op threads; 0 = the cores this rank is bound to
  bool deterministic = true;
  std::string device = "auto";  // auto | cpu | cuda
  std::string amp = "off";      // off | bf16: mixed-precision forward (core/models/autocast.h)
};

struct DistConfig {
  std::string backend = "auto";  // auto | mpi | nccl
  double bucket_mb = 25.0;
  double first_bucket_mb = 1.0;
  std::string gradient_sync = "bucketed";  // bucketed | naive (the baseline: 1 blocking all-reduce per parameter)
  std::string bind = "core";               // core | none
  double timeout = 600.0;                  // seconds a collective may take before the job aborts
  bool debug = false;                      // check every collective matches across ranks
  // The CCC loss and BatchNorm statistics over the global batch (all ranks), so N ranks x batch B
  // train exactly as 1 rank x batch N*B; false: each rank's own (the common, rank-dependent shortcut).
  bool global_statistics = true;
};

struct CheckpointConfig {
  std::string dir;              // default: <train.out>/checkpoints
  std::string metric = "mean";  // mean | <target name>: validation CCC used to pick best
  int keep = 3;                 // top-k kept besides last and best
  int every = 0;                // validate + checkpoint every N steps; 0 = every epoch
  std::string resume;           // "" | auto | <path>
  std::string signal = "USR2";  // preemption signal (SIGTERM is always trapped too)
  bool requeue = false;         // scontrol requeue on preemption under SLURM
};

struct LogConfig {
  bool all_ranks = false;
  std::string progress = "auto";  // auto | bar | lines | off
  double interval = 10.0;         // seconds between plain progress lines
  std::string metrics;            // JSON-lines file; default <train.out>/metrics.jsonl
  bool diagnostics = false;       // gradient norms per module, attention entropy (core/training/diagnostics.h)
};

struct Config {
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  DistConfig dist;
  CheckpointConfig checkpoint;
  LogConfig log;
};

// Binds "section.key" names to the fields of one Config and converts text values into them.
class ConfigSchema {
 public:
  explicit ConfigSchema(Config& config);

  // Sets one key from text; `where` is "file.ini:12" or "command line". Throws ConfigError.
  void set(const std::string& key, const std::string& value, const std::string& where);
  bool has(const std::string& key) const { return entries_.count(key) > 0; }
  std::vector<std::string> keys() const;
  const std::string& help(const std::string& key) const { return entries_.at(key).help; }
  std::string get(const std::string& key) const { return entries_.at(key).get(); }
  // The nearest known key by edit distance ("" when nothing is close).
  std::string nearest(const std::string& key) const;
  // The whole configuration as an INI file that load_config() reads back to the same values.
  std::string to_ini() const;
  // A Markdown table (key, default, meaning) for the README; a test keeps the README in sync.
  std::string to_markdown() const;

 private:
  struct Entry {
    std::string help;
    std::function<void(const std::string& value, const std::string& where, const std::string& key)> set;
    std::function<std::string()> get;
  };
  template <class T>
  void add(const std::string& key, T* field, const std::string& help, std::vector<std::string> choices = {});
  std::map<std::string, Entry> entries_;
};

// Reads an INI file (Boost.Program_options syntax) into `config`; keys not in the file keep their
// current values. Unknown keys, bad values and keys given twice (also under a repeated section)
// throw ConfigError naming file:line (both lines for a duplicate) and the key.
void apply_config_file(Config& config, const std::string& path);
// The same for INI text held in memory (e.g. the config stored in a checkpoint); `name` is the
// source named in error messages.
void apply_config_text(Config& config, const std::string& text, const std::string& name);
// Consistency checks across keys (e.g. sequence divisible into sub-sequences).
void validate(const Config& config);
// data.label-shift as seconds per target; throws ConfigError naming a malformed pair or an unknown target.
std::map<std::string, double> label_shifts(const Config& config);
std::string config_to_ini(const Config& config);
// Levenshtein distance, used to suggest the nearest valid key or option.
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace avf
