// `avf extract`: per-sub-sequence features of both modalities for every video, from the trained
// visual and audio networks, into feature files that the fusion stage trains on. Ranks split the
// videos; each writes its own file and rank 0 writes the manifest last.
#include <fmt/format.h>
#include <torch/torch.h>


#include "core/command_line.h"
#include "core/exit_codes.h"
#include "core/feature_store.h"
#include "core/feature_extraction.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/run_context.h"
#include "core/subcommand.h"
#include "core/trained_model.h"
#include "dist/sampler.h"

namespace avf {

int cmd_extract(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.name = "extract";
  spec.summary = "Write per-sub-sequence audio and visual features of every video for the fusion stage.";
  spec.usage = "avf extract --visual CHECKPOINT --audio CHECKPOINT --data.shards DIR --output DIR";
  spec.takes_config = true;
  spec.options.add_options()
      ("visual", boost::program_options::value<std::string>()->required(), "trained visual checkpoint (directory)")
      ("audio", boost::program_options::value<std::string>()->required(), "trained audio checkpoint (directory)")
      ("output", boost::program_options::value<std::string>()->required(), "feature directory to write");
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  const Config& c = parsed->config;
  RunContext ctx = start_run(c);
  auto visual = load_trained_model(parsed->vm["visual"].as<std::string>(), ctx.device);
  auto audio = load_trained_model(parsed->vm["audio"].as<std::string>(), ctx.device);
  // Geometry and targets come from the trained models, so features line up with what they learned.
  Config geometry = visual.config;
  geometry.data.shards = c.data.shards;
  if (visual.config.data.targets != audio.config.data.targets || visual.config.data.subsequence_frames != audio.config.data.subsequence_frames)
    throw std::runtime_error("the visual and audio checkpoints were trained on different targets or sub-sequence lengths");
  auto data = open_shard_data(geometry, &visual.config, &audio.config);
  const int64_t L = geometry.data.sequence_frames / geometry.data.subsequence_frames;
  const int64_t S = geometry.data.subsequence_frames;
  const auto mine = dist::shard_range(int64_t(data->videos().size()), ctx.world.size, ctx.world.rank);

  int64_t total = 0;  // sequences of this rank, scaled to the job (ranks progress at about the same rate)
  for (int64_t i : mine) total += int64_t(data->covering_sequences(size_t(i), L).size());
  Progress progress("extract", total * ctx.world.size, "sequences", c.log.progress, c.log.interval);
  std::vector<VideoFeatures> out;
  for (int64_t i : mine)
    out.push_back(extract_video_features(*data, size_t(i), *visual.model, *audio.model, L, S, c.train.batch_size, ctx.device,
                                         [&](int64_t n) { progress.advance(n * ctx.world.size); }));
  progress.finish();
  const std::string dir = parsed->vm["output"].as<std::string>();
  write_features(dir, ctx.world.rank, out, data->targets());
  ctx.comm->barrier("barrier before the feature manifest (every rank writing its features)")->wait();
  if (ctx.world.rank == 0) write_feature_manifest(dir, ctx.world.size, data->targets());
  log::info("features of {} videos written to {}", data->videos().size(), dir);
  return exit_code::ok;
}

}  // namespace avf
