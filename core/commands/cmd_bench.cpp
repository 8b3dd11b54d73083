// `avf bench allreduce`: what gradient communication costs. For each size, one raw MPI_Allreduce
// against the communicator's all-reduce (what the reducer issues per bucket) and the reducer's whole
// bucketed path on the same bytes (hooks fire during a real backward, buckets of dist.bucket-mb). Then, on the
// parameter list of a real model (I3D), the naive pattern — one blocking all-reduce per parameter after backward —
// against the reducer, with the backward alone as the floor of both. `avf bench loader` (below) and `avf bench stream`
// (core/commands/bench_stream.h) use the same table.
#include <fmt/format.h>
#include <mpi.h>
#include <torch/torch.h>

#include <chrono>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/subcommand.h"
#include "core/commands/bench_stream.h"
#include "core/commands/bench_table.h"
#include "core/data/geometry.h"
#include "core/data/loader.h"
#include "core/data/shard_reader.h"
#include "core/data/stage_data.h"
#include "core/data/visual_input.h"
#include "core/models/make_models.h"
#include "core/training/run_context.h"
#include "dist/reducer.h"
#include "dist/sampler.h"
#include "dist/watchdog.h"

namespace po = boost::program_options;

namespace avf {
namespace {

// Median seconds of `iters` runs of `fn`, after a warm-up, with the slowest rank's time (a collective
// is as fast as its slowest participant).
template <class Fn>
double time_it(int iters, Fn fn) {
  // Raw MPI calls on every rank: watched per repetition, outside the timed part.
  {
    dist::WatchedWait wait("bench: warm-up repetition");
    fn();
  }
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    dist::WatchedWait wait(fmt::format("bench: repetition {} (barrier, timed call, max all-reduce)", i));
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    fn();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    t.push_back(s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Parameters of the given shapes whose backward is nearly free, so the reducer's timing is its
// communication; gradients become ready in reverse registration order, as in a real backward.
struct ShapedModel : torch::nn::Module {
  explicit ShapedModel(const std::vector<std::vector<int64_t>>& shapes) {
    for (size_t i = 0; i < shapes.size(); ++i)
      params.push_back(register_parameter(fmt::format("p{}", i), torch::ones(shapes[i])));
  }
  double bytes() const {
    double b = 0;
    for (const auto& p : params) b += p.numel() * 4.0;
    return b;
  }
  torch::Tensor loss() {
    torch::Tensor l = torch::zeros({});
    for (auto& p : params) l = l + p.sum();
    return l;
  }
  std::vector<torch::Tensor> params;
};

// Seconds per step of `model`'s gradient work as in training: gradients zeroed in place (as
// optimizer.zero_grad() does), then `step` (backward plus whatever communication it does).
template <typename Step>
double gradient_step(ShapedModel& model, int iters, Step step) {
  return time_it(iters, [&] {
    for (auto& p : model.params)
      if (p.grad().defined()) p.mutable_grad().zero_();
    step();
  });
}

// The reducer: prepare, backward (hooks launch buckets as gradients become ready), finalize; or,
// with `bucketed` false, the naive pattern: backward, then one blocking all-reduce per parameter.
double reducer_step(ShapedModel& model, dist::Communicator& comm, const Config& c, int iters, bool bucketed = true) {
  // As the trainer sets it up: gradients summed (the loss carries the 1/N), no averaging pass.
  dist::Reducer reducer(model, comm, {c.dist.bucket_mb, c.dist.first_bucket_mb, bucketed, /*average=*/false});
  return gradient_step(model, iters, [&] {
    reducer.prepare_for_backward();
    model.loss().backward();
    reducer.finalize();
  });
}

// `avf bench loader`: training batches of the visual stage (the heavy reader: face clips) assembled from
// the shards in random order, by the prefetching loader with 1..max_threads reader threads, against a
// raw read of the same face rows in one thread. HDF5 calls are serialised by Debian's thread-safe
// build; only the chunk fetch holds the lock, decompression and assembly run in parallel.
void bench_loader(const Config& c, int batches, int max_threads, BenchTable& table) {
  Config v = c;
  v.train.stage = "visual";
  auto data = open_stage_data(v);
  const int64_t S = c.data.subsequence_frames, L = c.data.sequence_frames / S;
  const auto sequences = data->training_sequences(c.data.train_partition, L, S, c.data.stride);
  if (sequences.empty()) throw std::runtime_error("no training sequences to read");
  dist::DistributedSampler sampler(int64_t(sequences.size()), 1, 0, c.train.batch_size, c.train.seed);
  if (sampler.steps_per_epoch() == 0)
    throw std::runtime_error(
        fmt::format("{} training sequences are fewer than one batch of {} (smaller "
                    "--train.batch-size or --data.stride, or more data)",
                    sequences.size(), c.train.batch_size));
  std::vector<std::vector<SequenceRef>> plan;
  for (int64_t epoch = 0; int(plan.size()) < batches; ++epoch)
    for (const auto& idx : sampler.epoch_batches(epoch)) {
      if (int(plan.size()) == batches) break;
      std::vector<SequenceRef> refs;
      for (int64_t i : idx) refs.push_back(sequences[i]);
      plan.push_back(std::move(refs));
    }
  const auto& reader = *data->shard_reader();
  const double bytes = double(c.train.batch_size) * L * S * reader.face_height() * reader.face_width() * 3;
  // Into one batch-sized buffer, as the loader's batches are: a clip-sized buffer stays in the cache
  // and measured a read that never reaches memory (0.63-0.68 of it at 64 sequences a batch, 0.83 at 8).
  const size_t clip_bytes = size_t(S) * reader.face_height() * reader.face_width() * 3;
  std::vector<uint8_t> rows(size_t(c.train.batch_size) * L * clip_bytes);
  auto start = std::chrono::steady_clock::now();
  for (const auto& batch : plan) {
    uint8_t* out = rows.data();
    for (const auto& ref : batch)
      for (int64_t l = 0; l < L; ++l, out += clip_bytes) {
        const auto& info = data->videos()[ref.video];
        const int64_t first = geometry::clip_start(ref.first_sub, ref.offset, l, info.n_frames, S);
        reader.read_faces(ref.video, first, S, out);
      }
  }
  table.row("raw face reads, 1 thread", bytes,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / batches);
  // The loader hands out uint8 crops; the row's size is the face rows it reads (as the raw row's), so
  // the two bandwidths compare. clips/s: what one rank could feed the network with.
  const double clips = double(c.train.batch_size) * L;
  Batch last;
  for (int threads = 1; threads <= max_threads; threads *= 2) {
    start = std::chrono::steady_clock::now();
    Loader loader(*data, plan, 0, c.train.seed, true, threads, 2 * threads);
    while (auto b = loader.next()) last = std::move(*b);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / batches;
    table.row(fmt::format("loader, {} thread{} ({:.0f} clips/s)", threads, threads == 1 ? "" : "s", clips / seconds),
              bytes, seconds);
  }
  // What the training step adds on the CPU: uint8 clips to float network input in one fused pass.
  const double convert_s = time_it(5, [&] { visual_clips(last.visual, last.visual_blank, torch::kCPU); });
  table.row(fmt::format("uint8 -> float clips, CPU ({:.0f} clips/s)", clips / convert_s), double(last.visual.numel()),
            convert_s);
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  CommandSpec spec{
      "bench", "Benchmarks with nccl-tests columns (size, time, algbw, busbw): allreduce, loader, stream.",
      "mpirun -np 2 avf bench allreduce [--min-bytes 1024] [--max-bytes 268435456] [--iters 10] [--json FILE]\n"
      "       avf bench loader --data.shards DIR [--batches 20] [--max-threads 4] [--json FILE]\n"
      "       avf bench stream --data.shards DIR [--partition dev] [--max-videos 0] [--iters 3] [--json FILE]"};
  spec.takes_config = true;
  std::string part, json;
  StreamBenchOptions stream;
  double min_bytes = 1024, max_bytes = 256.0 * (1 << 20);
  int iters = 10, batches = 20, max_threads = 4;
  spec.options.add_options()("part", po::value(&part)->required(), "allreduce | loader | stream")(
      "partition", po::value(&stream.partition), "stream: the partition evaluate scores (extract streams every video)")(
      "max-videos", po::value(&stream.max_videos), "stream: only the first N videos of each pass (0 = all)")(
      "batches", po::value(&batches), "loader: training batches read per measurement")(
      "max-threads", po::value(&max_threads), "loader: reader threads up to this (1, 2, 4, ...)")(
      "min-bytes", po::value(&min_bytes), "smallest message")("max-bytes", po::value(&max_bytes), "largest message")(
      "iters", po::value(&iters), "timed repetitions per size or pass (median reported)")("json", po::value(&json),
                                                                                          "write results here");
  spec.positional.add("part", 1);
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  if (part != "allreduce" && part != "loader" && part != "stream")
    throw ConfigError(fmt::format("unknown benchmark '{}' (known: allreduce, loader, stream)", part));
  const Config& c = parsed->config;
  RunContext ctx = start_run(c);
  if (part == "stream") {
    BenchTable table(fmt::format("stream: forward only vs avf evaluate ('{}') and avf extract, batches of {} sequences "
                                 "(time per batch; frames/s per rank)",
                                 stream.partition, c.train.batch_size),
                     ctx.world.size, ctx.world.rank == 0);
    table.header();
    if (parsed->vm.count("iters")) stream.iters = iters;  // else 3: a pass lasts longer than a message
    bench_stream(c, ctx, stream, table);
    table.save(json);
    return exit_code::ok;
  }
  if (part == "loader") {
    BenchTable table(fmt::format("loader: visual-stage batches of {} sequences from {} (time per batch)",
                                 c.train.batch_size, c.data.shards),
                     1, ctx.world.rank == 0);
    table.header();
    bench_loader(c, batches, max_threads, table);
    table.save(json);
    return exit_code::ok;
  }

  BenchTable table("all-reduce: raw MPI_Allreduce vs the reducer's bucketed path", ctx.world.size, ctx.world.rank == 0);
  table.header();
  for (double bytes = min_bytes; bytes <= max_bytes; bytes *= 4) {
    const int64_t floats = std::max<int64_t>(8, int64_t(bytes) / 4);
    std::vector<float> buf(floats, 1.0f);
    table.row("raw MPI_Allreduce", floats * 4.0, time_it(iters, [&] {
                MPI_Allreduce(MPI_IN_PLACE, buf.data(), int(floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
              }));
    // What the reducer issues per bucket: the communicator's asynchronous all-reduce (its worker
    // thread, MPI; a sum, since the trainer's loss carries the 1/N), waited for.
    auto flat = torch::ones({floats});
    table.row("communicator all-reduce (sum)", floats * 4.0,
              time_it(iters, [&] { ctx.comm->allreduce(flat, dist::ReduceOp::sum, "bench")->wait(); }));
    ShapedModel model(std::vector<std::vector<int64_t>>(8, {std::max<int64_t>(1, floats / 8)}));
    table.row("reducer (8 params, +backward)", model.bytes(), reducer_step(model, *ctx.comm, c, iters));
  }

  // The naive pattern against the reducer on a real parameter list: I3D at model.width (1.0: 12.3 M
  // parameters in 188 tensors). Both rows include the backward that produces the gradients; the
  // first row is that backward alone, the floor of both.
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : make_i3d(c.model, 2)->parameters()) shapes.push_back(p.sizes().vec());
  ShapedModel i3d(shapes);
  table.row("I3D params: backward only", i3d.bytes(), gradient_step(i3d, iters, [&] { i3d.loss().backward(); }));
  table.row("I3D params: naive 1 blocking/param", i3d.bytes(), reducer_step(i3d, *ctx.comm, c, iters, false));
  table.row("I3D params: reducer", i3d.bytes(), reducer_step(i3d, *ctx.comm, c, iters));
  table.save(json);
  return exit_code::ok;
}

}  // namespace avf
