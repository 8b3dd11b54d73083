// `avf evaluate`: the paper's Table III for trained checkpoints — CCC per target of the audio-only,
// visual-only and fusion models on one partition, raw and after the post-processing chain fitted on
// another partition (never on the one it scores). Writes per-frame predictions (CSV), a JSON summary
// and plots of prediction vs. ground truth per video (the paper's Fig. 2). Each model's streams of
// both partitions report frames/s per rank and the time split (data, forward, rest: core/data/stream.h)
// in the log and in evaluation.json ("throughput").
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/lap.h"
#include "core/base/log.h"
#include "core/base/plot.h"
#include "core/base/subcommand.h"
#include "core/evaluation/ccc.h"
#include "core/evaluation/evaluation.h"
#include "core/evaluation/postprocess.h"
#include "core/training/run_context.h"
#include "core/training/trained_model.h"

namespace po = boost::program_options;

namespace avf {
namespace {

constexpr double kFps = 25.0;  // the label grid of every shard (40 ms)

struct ModelScores {
  std::string name;                    // Audio | Visual | Fusion
  std::shared_ptr<StageData> data;     // video indices of `predictions` refer to it
  std::vector<double> raw, processed;  // per target
  std::vector<PostprocessParams> params;
  std::vector<VideoPrediction> predictions;   // evaluation partition, post-processed
  std::vector<StreamTimes> times, fit_times;  // per rank: streaming the scored and the fitting partition
  double postprocess_s = 0;                   // fitting and applying the chain (every rank does)
};

// Per target, one series per video of the partition.
std::vector<std::vector<Series>> series_of(const std::vector<VideoPrediction>& preds, const StageData& data) {
  const size_t T = data.targets().size();
  std::vector<std::vector<Series>> out(T);
  for (const auto& p : preds) {
    const auto& labels = data.frame_labels(p.video);
    const size_t n = p.frames.size() / T;
    for (size_t t = 0; t < T; ++t) {
      Series s;
      for (size_t f = 0; f < n; ++f) s.prediction.push_back(p.frames[f * T + t]), s.label.push_back(labels[f * T + t]);
      out[t].push_back(std::move(s));
    }
  }
  return out;
}

double pooled_ccc(const std::vector<Series>& videos) {
  CccStats stats;
  for (const auto& v : videos) stats.add(v.prediction, v.label);
  return stats.ccc();
}

// `stream`: batches of the size the model was trained with, reader threads as the command line says.
ModelScores score(const std::string& name, StageModel& model, const StageData& data, const Config& trained,
                  const StreamOptions& stream, const std::string& partition, const std::string& fit_partition,
                  dist::Communicator& comm) {
  const int64_t S = trained.data.subsequence_frames, L = trained.data.sequence_frames / S;
  // Every rank's predictions of partition `p`; the stream's times (gather included) of every rank.
  auto on = [&](const std::string& p, std::vector<StreamTimes>& times) {
    auto e = evaluate(model, data, p, stream, L, S, comm);
    Lap lap;
    auto all = gather_predictions(e.predictions, data, comm);
    e.times.rest += lap();
    times = gather_times(e.times, comm);
    log_times(fmt::format("evaluate {} on '{}'", name, p), times);
    return all;
  };
  ModelScores out;
  out.name = name;
  out.predictions = on(partition, out.times);
  const auto fit = series_of(on(fit_partition, out.fit_times), data);
  Lap lap;
  auto eval = series_of(out.predictions, data);
  const size_t T = data.targets().size();
  for (size_t t = 0; t < T; ++t) {
    out.raw.push_back(pooled_ccc(eval[t]));
    out.params.push_back(fit_postprocess(fit[t]));
    for (auto& s : eval[t]) s.prediction = apply_postprocess(s.prediction, out.params[t]);
    out.processed.push_back(pooled_ccc(eval[t]));
  }
  // Keep the post-processed predictions for the CSV files and plots.
  for (size_t v = 0; v < out.predictions.size(); ++v)
    for (size_t t = 0; t < T; ++t)
      for (size_t f = 0; f < eval[t][v].prediction.size(); ++f)
        out.predictions[v].frames[f * T + t] = float(eval[t][v].prediction[f]);
  out.postprocess_s = lap();
  log::info("{}: post-processing chain fitted on '{}' and applied in {:.2f} s", name, fit_partition, out.postprocess_s);
  return out;
}

std::string table(const std::vector<ModelScores>& models, const std::vector<std::string>& targets) {
  std::string head1 = fmt::format("{:<16}", ""), head2 = fmt::format("{:<16}", ""), raw = fmt::format("{:<16}", "raw"),
              post = fmt::format("{:<16}", "post-processed");
  for (size_t t = 0; t < targets.size(); ++t) {
    head1 += fmt::format("| {:<{}}", targets[t], 8 * models.size());
    head2 += "| ";
    raw += "| ";
    post += "| ";
    for (const auto& m : models) {
      head2 += fmt::format("{:<8}", m.name);
      raw += fmt::format("{:<8.3f}", m.raw[t]);
      post += fmt::format("{:<8.3f}", m.processed[t]);
    }
  }
  return head1 + "\n" + head2 + "\n" + raw + "\n" + post + "\n";
}

void write_outputs(const std::string& dir, const std::vector<ModelScores>& models, const std::string& partition,
                   const std::string& fit_partition, double fps) {
  const auto& targets = models.front().data->targets();
  const size_t T = targets.size();
  nlohmann::json summary{{"partition", partition}, {"postprocess_fitted_on", fit_partition}, {"targets", targets}};
  for (const auto& m : models) {
    auto& j = summary["models"][m.name];
    j["throughput"] = {{partition, times_json(m.times)}, {fit_partition, times_json(m.fit_times)}};
    j["postprocess_s"] = m.postprocess_s;
    for (size_t t = 0; t < T; ++t) {
      j["raw"][targets[t]] = m.raw[t];
      j["postprocessed"][targets[t]] = m.processed[t];
      const auto& p = m.params[t];
      j["postprocess"][targets[t]] = {
          {"median_window_frames", p.window}, {"bias", p.bias},      {"scale", p.scale}, {"center", p.center},
          {"shift_frames", p.shift},          {"fit_ccc", p.fit_ccc}};
    }
    const auto pred_dir = std::filesystem::path(dir) / "predictions" / m.name;
    std::filesystem::create_directories(pred_dir);
    for (const auto& vp : m.predictions) {
      const auto& info = m.data->videos()[vp.video];
      const auto& labels = m.data->frame_labels(vp.video);
      const std::string csv = (pred_dir / (info.id + ".csv")).string();
      write_prediction_csv(csv, vp.frames, labels, targets, info.n_frames, fps);
      plot_prediction_csv(csv, (pred_dir / (info.id + ".png")).string(), fmt::format("{} model, {}", m.name, info.id),
                          targets);
    }
  }
  write_file_atomic((std::filesystem::path(dir) / "evaluation.json").string(), summary.dump(2) + "\n");
}

}  // namespace

int cmd_evaluate(const std::vector<std::string>& args) {
  CommandSpec spec{
      "evaluate", "CCC of audio-only, visual-only and fusion checkpoints, raw and post-processed (Table III).",
      "avf evaluate [--audio CKPT] [--visual CKPT] [--fusion CKPT] --data.shards DIR [--data.features DIR] "
      "[--partition dev] [--fit-partition train] [--output DIR]"};
  spec.takes_config = true;
  spec.options.add_options()("audio", po::value<std::string>(), "trained audio checkpoint")(
      "visual", po::value<std::string>(), "trained visual checkpoint")(
      "fusion", po::value<std::string>(), "trained fusion checkpoint (scored on data.features)")(
      "partition", po::value<std::string>()->default_value("dev"), "partition scored")(
      "fit-partition", po::value<std::string>()->default_value("train"), "partition the post-processing is fitted on")(
      "output", po::value<std::string>(), "directory for evaluation.json, per-frame CSVs and plots");
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  const auto& vm = parsed->vm;
  const std::string partition = vm["partition"].as<std::string>(), fit = vm["fit-partition"].as<std::string>();
  if (partition == fit)
    throw ConfigError("--partition and --fit-partition must differ: the chain is never fitted on the data it scores");
  if (!vm.count("audio") && !vm.count("visual") && !vm.count("fusion"))
    throw ConfigError("give at least one of --audio, --visual, --fusion");
  RunContext ctx = start_run(parsed->config);

  std::vector<ModelScores> models;
  for (const char* name : {"audio", "visual", "fusion"}) {
    if (!vm.count(name)) continue;
    const std::string path = vm[name].as<std::string>();
    Config trained = checkpoint_config(path);
    trained.data.shards = parsed->config.data.shards;
    trained.data.features = parsed->config.data.features;
    std::shared_ptr<StageData> data = open_stage_data(trained);
    auto model = load_trained_model(path, ctx.device);
    std::string label = name;
    label[0] = char(std::toupper(label[0]));
    log::info("scoring {} ({}) on '{}', post-processing fitted on '{}'", label, path, partition, fit);
    StreamOptions stream = stream_options(parsed->config);
    stream.batch_size = model.config.train.batch_size;
    models.push_back(score(label, *model.model, *data, model.config, stream, partition, fit, *ctx.comm));
    models.back().data = data;
    if (data->targets() != models.front().data->targets())
      throw std::runtime_error(fmt::format("{} was trained on targets {} but {} on {}", path,
                                           fmt::join(data->targets(), ","), models.front().name,
                                           fmt::join(models.front().data->targets(), ",")));
  }
  if (ctx.world.rank != 0) return exit_code::ok;
  const auto& targets = models.front().data->targets();
  std::printf("CCC on partition '%s' (post-processing fitted on '%s')\n%s", partition.c_str(), fit.c_str(),
              table(models, targets).c_str());
  if (vm.count("output")) {
    const std::string dir = vm["output"].as<std::string>();
    Lap lap;
    write_outputs(dir, models, partition, fit, kFps);
    log::info("wrote {}/evaluation.json, per-frame predictions and plots under {}/predictions ({:.2f} s)", dir, dir,
              lap());
  }
  return exit_code::ok;
}

}  // namespace avf
