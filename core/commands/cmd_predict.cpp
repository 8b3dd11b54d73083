// `avf predict VIDEO`: valence/arousal (or whatever the models were trained for) for every frame of a
// new video. The video is preprocessed exactly like the training shards (their manifest's parameters),
// then the visual and audio networks give per-sub-sequence features and the fusion head predicts.
// Writes a per-frame CSV and a plot; --attention also writes the cross-attention maps.
#include <fmt/format.h>

#include <torch/torch.h>
#include <sstream>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/base/plot.h"
#include "core/base/subcommand.h"
#include "core/data/shard_format.h"
#include "core/evaluation/evaluation.h"
#include "core/evaluation/feature_extraction.h"
#include "core/training/run_context.h"
#include "core/training/trained_model.h"
#include "preprocess/process_video.h"
#include "preprocess/video.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace avf {
namespace {

// The preprocessing parameters of the shards a checkpoint was trained on.
pre::Params training_params(const Config& trained, const std::string& checkpoint) {
  const auto manifest = fs::path(trained.data.shards) / shard::kManifestFile;
  std::ifstream in(manifest);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!in || j.is_discarded() || !j.contains("params"))
    throw std::runtime_error(
        fmt::format("{} was trained on {}, whose manifest is needed to preprocess the video the same way "
                    "(pass --shards DIR if the shards moved)",
                    checkpoint, manifest.string()));
  return pre::Params::from_json(j["params"].dump(), manifest.string());
}

// Preprocesses one video (labels unknown: NaN) into a one-video dataset that ShardReader opens.
void preprocess_video(const std::string& video, const std::string& audio, const std::string& id,
                      const std::vector<std::string>& targets, const pre::Params& params, const std::string& dir) {
  fs::create_directories(dir);
  pre::Dataset dataset;
  dataset.targets = targets;
  dataset.label_format = "arff";
  pre::VideoInput input;
  input.id = id;
  input.partition = "predict";
  input.video = video;
  input.audio = audio;
  for (const auto& t : targets) input.label_files.push_back((fs::path(dir) / ("no-labels-" + t + ".arff")).string());
  dataset.videos = {input};
  const std::string shard = shard::shard_file_name(0);
  pre::ShardWriter writer((fs::path(dir) / shard).string(), params.to_json(), "predict", params.compression);
  auto detector = pre::make_face_detector(params.face_detector, params.detect_width, params.min_face, params.equalize);
  const auto summary = pre::process_video(input, dataset, "", params, *detector, writer, [] {});
  writer.commit("[]");
  const nlohmann::json manifest{
      {"format", shard::kFormat},
      {"version", shard::kVersion},
      {"params", nlohmann::json::parse(params.to_json())},
      {"targets", targets},
      {"shards", {{{"file", shard}}}},
      {"videos", {{{"id", id}, {"shard", shard}, {"partition", "predict"}, {"n_frames", summary.n_frames}}}}};
  write_file_atomic((fs::path(dir) / shard::kManifestFile).string(), manifest.dump(2) + "\n");
  log::info("{}: {} frames, face found in {:.1f}%", video, summary.n_frames,
            100.0 * summary.face_frames / std::max<int64_t>(1, summary.n_frames));
}

void write_attention(const std::string& path, StageModel& fusion, const StageData& data, int64_t L, int64_t S,
                     torch::Device device) {
  std::ostringstream out;
  out << "first_frame,map,row,column,weight\n";
  torch::NoGradGuard no_grad;
  for (const auto& ref : data.covering_sequences(0, L)) {
    Batch b = data.make_batch({ref}, 0, false);
    b.audio = b.audio.to(device), b.visual = b.visual.to(device);
    for (const auto& [name, map] : fusion.attention(b)) {
      auto m = map[0].cpu().contiguous();
      for (int64_t i = 0; i < m.size(0); ++i)
        for (int64_t k = 0; k < m.size(1); ++k)
          out << ref.first_sub * S << "," << name << "," << i << "," << k << "," << m[i][k].item<float>() << "\n";
    }
  }
  write_file_atomic(path, out.str());
}

}  // namespace

int cmd_predict(const std::vector<std::string>& args) {
  CommandSpec spec{
      "predict", "Per-frame predictions for a new video from trained visual, audio and fusion checkpoints.",
      "avf predict VIDEO --visual CKPT --audio CKPT --fusion CKPT [--audio-file WAV] [--output DIR] [--attention]"};
  spec.takes_config = true;
  std::string video, output;
  spec.options.add_options()("video", po::value(&video)->required(),
                             "video file (any format FFmpeg reads; audio from its stream)")(
      "visual", po::value<std::string>()->required(), "trained visual checkpoint")(
      "audio", po::value<std::string>()->required(), "trained audio checkpoint")(
      "fusion", po::value<std::string>()->required(), "trained fusion checkpoint")(
      "audio-file", po::value<std::string>()->default_value(""),
      "separate audio (default: the video's own audio stream)")(
      "shards", po::value<std::string>(), "the training shards (default: where the visual checkpoint's config says)")(
      "output", po::value(&output)->default_value("prediction"), "directory for the CSV, the plot and the work files")(
      "attention", "also write the cross-attention maps of every sequence (attention.csv)");
  spec.positional.add("video", 1);
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  const auto& vm = parsed->vm;
  RunContext ctx = start_run(parsed->config);
  if (ctx.world.size > 1) throw ConfigError("avf predict runs on one rank (it processes one video)");

  // Before three checkpoints are loaded: a path that is no video fails here, naming it as such.
  pre::probe_video(video);
  auto visual = load_trained_model(vm["visual"].as<std::string>(), ctx.device);
  auto audio = load_trained_model(vm["audio"].as<std::string>(), ctx.device);
  auto fusion = load_trained_model(vm["fusion"].as<std::string>(), ctx.device);
  if (vm.count("shards")) visual.config.data.shards = vm["shards"].as<std::string>();
  const auto params = training_params(visual.config, visual.path);
  const std::string id = fs::path(video).stem().string();
  const auto targets = fusion.config.data.targets;
  const int64_t S = visual.config.data.subsequence_frames, L = visual.config.data.sequence_frames / S;

  Config geometry = visual.config;
  geometry.data.shards = (fs::path(output) / "preprocessed").string();
  geometry.data.targets = targets;
  preprocess_video(video, vm["audio-file"].as<std::string>(), id, targets, params, geometry.data.shards);
  auto shards = open_shard_data(geometry, &visual.config, &audio.config);
  const auto features = extract_video_features(*shards, 0, *visual.model, *audio.model, L, S, stream_options(geometry));
  const std::string feature_dir = (fs::path(output) / "features").string();
  write_features(feature_dir, 0, {features}, targets);
  write_feature_manifest(feature_dir, 1, targets,
                         {{"label-shift", geometry.data.label_shift}, {"label-median", geometry.data.label_median}});

  Config fused = fusion.config;
  fused.data.features = feature_dir;
  fused.data.train_partition = fused.data.valid_partition = "predict";
  auto data = open_stage_data(fused);
  auto result = evaluate(*fusion.model, *data, "predict", stream_options(fused), L, S, *ctx.comm);
  const auto& frames = result.predictions.at(0).frames;
  const std::string csv = (fs::path(output) / (id + ".csv")).string(),
                    png = (fs::path(output) / (id + ".png")).string();
  write_prediction_csv(csv, frames, data->frame_labels(0), targets, features.n_frames, params.fps);
  plot_prediction_csv(csv, png, fmt::format("{}: fusion ({})", id, fused.model.fusion), targets);
  if (vm.count("attention")) {
    write_attention((fs::path(output) / "attention.csv").string(), *fusion.model, *data, L, S, ctx.device);
    log::info("attention maps: {}", (fs::path(output) / "attention.csv").string());
  }
  log::info("per-frame predictions: {} (plot: {})", csv, png);
  return exit_code::ok;
}

}  // namespace avf
