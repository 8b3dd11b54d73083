// `avf extract`: per-sub-sequence features of both modalities for every video, from the trained
// visual and audio networks, into feature files that the fusion stage trains on. Ranks split the
// videos; each writes its own file and rank 0 writes the manifest last, with every rank's frames/s
// and time split (data, forward, rest), which the log shows too.
#include <fmt/format.h>
#include <torch/torch.h>

#include <numeric>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/lap.h"
#include "core/base/log.h"
#include "core/base/progress.h"
#include "core/base/subcommand.h"
#include "core/data/feature_store.h"
#include "core/data/stream.h"
#include "core/evaluation/feature_extraction.h"
#include "core/training/run_context.h"
#include "core/training/trained_model.h"

namespace avf {

int cmd_extract(const std::vector<std::string>& args) {
  CommandSpec spec{"extract", "Write per-sub-sequence audio and visual features of every video for the fusion stage.",
                   "avf extract --visual CHECKPOINT --audio CHECKPOINT --data.shards DIR --output DIR"};
  spec.takes_config = true;
  spec.options.add_options()("visual", boost::program_options::value<std::string>()->required(),
                             "trained visual checkpoint (directory)")(
      "audio", boost::program_options::value<std::string>()->required(), "trained audio checkpoint (directory)")(
      "output", boost::program_options::value<std::string>()->required(), "feature directory to write")(
      "offsets", boost::program_options::value<int64_t>()->default_value(1),
      "features at this many offsets past the sub-sequence grid, every S/N frames (N must divide "
      "data.subsequence-frames S; N = S: every frame, so the fusion stage trains at any data.stride); each "
      "costs one more pass");
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  const Config& c = parsed->config;
  RunContext ctx = start_run(c);
  auto visual = load_trained_model(parsed->vm["visual"].as<std::string>(), ctx.device);
  auto audio = load_trained_model(parsed->vm["audio"].as<std::string>(), ctx.device);
  // Geometry and targets come from the trained models, so features line up with what they learned.
  Config geometry = visual.config;
  geometry.data.shards = c.data.shards;
  if (visual.config.data.targets != audio.config.data.targets ||
      visual.config.data.subsequence_frames != audio.config.data.subsequence_frames)
    throw std::runtime_error(
        "the visual and audio checkpoints were trained on different targets or sub-sequence lengths");
  // Both learned the same labels: the features carry them (adjusted as in training) to the fusion stage.
  if (visual.config.data.label_shift != audio.config.data.label_shift ||
      visual.config.data.label_median != audio.config.data.label_median)
    throw std::runtime_error(fmt::format(
        "the visual and audio checkpoints were trained on differently adjusted labels (data.label-shift {} vs {}, "
        "data.label-median {} vs {})",
        fmt::join(visual.config.data.label_shift, ","), fmt::join(audio.config.data.label_shift, ","),
        visual.config.data.label_median, audio.config.data.label_median));
  auto data = open_shard_data(geometry, &visual.config, &audio.config);
  const int64_t L = geometry.data.sequence_frames / geometry.data.subsequence_frames;
  const int64_t S = geometry.data.subsequence_frames;
  const int64_t n_offsets = parsed->vm["offsets"].as<int64_t>();
  if (n_offsets < 1 || S % n_offsets != 0)
    throw ConfigError(fmt::format("--offsets {}: expected a divisor of data.subsequence-frames ({})", n_offsets, S));
  std::vector<int64_t> offsets;
  for (int64_t k = 0; k < n_offsets; ++k) offsets.push_back(k * (S / n_offsets));
  std::vector<size_t> every(data->videos().size());
  std::iota(every.begin(), every.end(), size_t(0));
  const auto mine = videos_of_rank(every, *ctx.comm);

  int64_t total = 0;  // sequences of this rank, scaled to the job (ranks progress at about the same rate)
  for (size_t i : mine) total += int64_t(data->covering_sequences(i, L).size()) * n_offsets;
  Progress progress("extract", total * ctx.world.size, "sequences", c.log.progress, c.log.interval);
  StreamTimes times;
  const auto out = extract_features(
      *data, every, mine, *visual.model, *audio.model, L, S, stream_options(c), times,
      [&](int64_t n) { progress.advance(n * ctx.world.size); }, offsets);
  progress.finish();
  const std::string dir = parsed->vm["output"].as<std::string>();
  Lap lap;
  write_features(dir, ctx.world.rank, out, data->targets());
  times.rest += lap();
  // Complete once every rank has written its file (a collective), so the manifest can name them all.
  const auto ranks = gather_times(times, *ctx.comm);
  log_times("extract", ranks);
  if (ctx.world.rank == 0)
    write_feature_manifest(dir, ctx.world.size, data->targets(),
                           {{"label-shift", geometry.data.label_shift}, {"label-median", geometry.data.label_median}},
                           offsets, times_json(ranks));
  log::info("features of {} videos written to {}", data->videos().size(), dir);
  return exit_code::ok;
}

}  // namespace avf
