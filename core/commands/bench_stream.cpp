#include "core/commands/bench_stream.h"

#include <fmt/format.h>
#include <mpi.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <numeric>

#include "core/base/lap.h"
#include "core/data/feature_store.h"
#include "core/data/stage_data.h"
#include "core/data/stream.h"
#include "core/evaluation/evaluation.h"
#include "core/evaluation/feature_extraction.h"
#include "core/models/stage_model.h"

namespace avf {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds of fn() on the slowest rank (a command is as fast as its slowest rank).
template <class Fn>
double timed(Fn fn) {
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = Clock::now();
  fn();
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return s;
}

double min_over_ranks(double v) {
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// What one pass streams on this rank: its share of the videos, as the commands split them, and the
// batches that stream them (core/data/stream.h).
struct Share {
  std::vector<size_t> videos, mine;
  std::vector<std::vector<SequenceRef>> batches;
  int64_t sequences = 0, video_frames = 0;
};

Share share_of(const StageData& data, const std::vector<size_t>& videos, int64_t L, int batch_size,
               const dist::Communicator& comm) {
  Share s{videos, videos_of_rank(videos, comm), {}, 0, 0};
  if (s.mine.empty()) throw std::runtime_error("bench stream: a rank has no video to stream (fewer videos than ranks)");
  s.batches = covering_batches(data, videos, s.mine, L, batch_size);
  for (const auto& b : s.batches) s.sequences += int64_t(b.size());
  for (size_t v : s.mine) s.video_frames += data.videos()[v].n_frames;
  return s;
}

// One case: the networks, the data they read, what the end-to-end pass streams and runs (returning
// this rank's split of the pass).
struct Case {
  std::string name, command;
  std::vector<StageModel*> nets;
  const StageData* data;
  Share share;
  std::function<StreamTimes()> end_to_end;
};

struct Measured {
  double forward_fps, e2e_fps, e2e_video_fps, ratio, batch_seconds, e2e_batch_seconds, data_batch_seconds, bytes;
  int64_t batch;
  StreamTimes split;  // this rank's, of the last timed pass
};

Measured measure(const Case& k, int64_t L, int64_t S, int iters) {
  iters = std::max(1, iters);
  // The forward-only inputs: the pass's first batches of the full size, as each network takes them,
  // made once and cycled. Several (up to 256 MiB), so that, like the end-to-end pass, the forward
  // pass reads inputs that are not all in the caches already (a 4 MiB audio batch stays in L3).
  const int64_t B = int64_t(k.share.batches.front().size());
  std::vector<std::vector<torch::Tensor>> inputs;  // [batch][network]
  double bytes = 0;                                // of one batch, all networks
  for (const auto& refs : k.share.batches) {
    if (int64_t(refs.size()) != B) continue;
    const Batch batch = k.data->make_batch(refs, 0, false);
    std::vector<torch::Tensor> per_net;
    double b = 0;
    for (auto* net : k.nets)
      per_net.push_back(net->network_input(batch).contiguous()), b += double(per_net.back().nbytes());
    inputs.push_back(std::move(per_net));
    bytes = b;
    if (double(inputs.size() + 1) * b > 256.0 * (1 << 20)) break;
  }
  // As many batches as the end-to-end pass runs, so both passes last about as long.
  const int64_t batches = int64_t(k.share.batches.size());
  auto forward_only = [&] {
    for (int64_t b = 0; b < batches; ++b)
      for (size_t i = 0; i < k.nets.size(); ++i) k.nets[i]->network_features(inputs[b % inputs.size()][i]).cpu();
  };
  // What the loader's threads do for the pass, here in one thread: reading and assembling batches.
  auto data_only = [&] {
    for (const auto& refs : k.share.batches) k.data->make_batch(refs, 0, false);
  };
  forward_only(), k.end_to_end();  // warm-up: allocator, kernel selection, page cache
  // Network frames: what both sides put through the networks (shared batches included). The ratio
  // is the median of adjacent pairs' ratios: on a shared machine the load drifts between passes, and
  // a pair sees about the same load.
  const double frames = double(k.share.sequences) * L * S;
  Measured m;
  std::vector<double> fwd, e2e, ratio, data;
  for (int i = 0; i < iters; ++i) {
    data.push_back(timed(data_only) / batches);
    fwd.push_back(timed(forward_only) / batches);
    e2e.push_back(timed([&] { m.split = k.end_to_end(); }));
    ratio.push_back((frames / e2e.back()) / (B * L * S / fwd.back()));
  }
  m.batch = B;
  m.bytes = bytes;
  m.batch_seconds = median(fwd);
  m.data_batch_seconds = median(data);
  const double pass = median(e2e);
  m.forward_fps = min_over_ranks(B * L * S / m.batch_seconds);
  m.e2e_fps = min_over_ranks(frames / pass);
  m.e2e_video_fps = min_over_ranks(k.share.video_frames / pass);
  m.ratio = min_over_ranks(median(ratio));
  m.e2e_batch_seconds = B * L * S / m.e2e_fps;
  return m;
}

}  // namespace

nlohmann::json bench_stream(const Config& c, RunContext& ctx, const StreamBenchOptions& o, BenchTable& table) {
  const std::string& partition = o.partition;
  torch::NoGradGuard no_grad;
  const int64_t S = c.data.subsequence_frames, L = c.data.sequence_frames / S, T = int64_t(c.data.targets.size());
  Config v = c, a = c;
  v.train.stage = "visual", a.train.stage = "audio";
  auto visual = make_stage_model(v, T), audio = make_stage_model(a, T);
  for (auto* m : {visual.get(), audio.get()}) m->module().to(ctx.device), m->module().eval();
  auto visual_data = open_stage_data(v), audio_data = open_stage_data(a);
  auto both = open_shard_data(c, &v, &a);
  auto& comm = *ctx.comm;
  const int B = c.train.batch_size;
  auto scored = visual_data->videos_in(partition);
  if (scored.empty()) throw ConfigError(fmt::format("bench stream: no video in partition '{}'", partition));
  std::vector<size_t> every(both->videos().size());
  std::iota(every.begin(), every.end(), size_t(0));
  if (o.max_videos > 0) {
    scored.resize(std::min(scored.size(), size_t(o.max_videos)));
    every.resize(std::min(every.size(), size_t(o.max_videos)));
  }
  const auto tmp =
      std::filesystem::temp_directory_path() / fmt::format("avf-bench-stream-{}-r{}", getpid(), comm.rank());

  const StreamOptions options = stream_options(c);
  // evaluate's path over the videos the forward-only side counts (with --max-videos, the first few).
  auto evaluate_pass = [&](StageModel& model, const StageData& data) {
    return [&, m = &model, d = &data] {
      auto e = evaluate_videos(*m, *d, scored, options, L, S, comm);
      Lap lap;
      gather_predictions(e.predictions, *d, comm);
      e.times.rest += lap();
      return e.times;
    };
  };
  std::vector<Case> cases;
  cases.push_back({"visual",
                   "evaluate",
                   {visual.get()},
                   visual_data.get(),
                   share_of(*visual_data, scored, L, B, comm),
                   evaluate_pass(*visual, *visual_data)});
  cases.push_back({"audio",
                   "evaluate",
                   {audio.get()},
                   audio_data.get(),
                   share_of(*audio_data, scored, L, B, comm),
                   evaluate_pass(*audio, *audio_data)});
  const Share all = share_of(*both, every, L, B, comm);
  cases.push_back({"visual + audio", "extract", {visual.get(), audio.get()}, both.get(), all, [&] {
                     StreamTimes times;
                     const auto out = extract_features(*both, every, all.mine, *visual, *audio, L, S, options, times);
                     Lap lap;
                     write_features(tmp.string(), comm.rank(), out, both->targets());
                     comm.barrier()->wait();
                     times.rest += lap();
                     return times;
                   }});
  std::filesystem::create_directories(tmp);
  nlohmann::json ratios;
  std::vector<std::string> lines;
  for (const auto& k : cases) {
    const auto m = measure(k, L, S, o.iters);
    table.row(fmt::format("{}: forward only ({:.0f} frames/s)", k.name, m.forward_fps), m.bytes, m.batch_seconds,
              {{"frames_per_s", m.forward_fps}, {"batch", m.batch}});
    table.row(fmt::format("{}: batches, 1 thread ({:.0f} frames/s)", k.name, m.batch * L * S / m.data_batch_seconds),
              m.bytes, m.data_batch_seconds,
              {{"frames_per_s", m.batch * L * S / m.data_batch_seconds}, {"batch", m.batch}});
    // The split is rank 0's (every rank logs its own in the commands).
    const double t = std::max(m.split.seconds(), 1e-12);
    table.row(fmt::format("{}: {} ({:.0f} frames/s)", k.name, k.command, m.e2e_fps), m.bytes, m.e2e_batch_seconds,
              {{"frames_per_s", m.e2e_fps},
               {"video_frames", m.split.frames},
               {"video_frames_per_s", m.e2e_video_fps},
               {"batch", m.batch},
               {"data_share", m.split.data / t},
               {"forward_share", m.split.forward / t},
               {"rest_share", m.split.rest / t}});
    const std::string key = k.command == "extract" ? "extract" : k.name + " evaluate";
    ratios[key] = m.ratio;
    lines.push_back(fmt::format("# {} / forward only, {}: {:.2f} (target >= 0.90)", k.command, k.name, m.ratio));
  }
  std::filesystem::remove_all(tmp);
  if (ctx.world.rank == 0)
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
  table.json()["ratios"] = ratios;
  table.json()["batch_size"] = B;
  table.json()["partition"] = partition;
  return ratios;
}

}  // namespace avf
