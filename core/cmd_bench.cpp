// `avf bench allreduce`: what gradient communication costs. For each size, the same bytes reduced
// three ways: one raw MPI_Allreduce; the reducer's bucketed path (hooks fire during a real backward,
// buckets of dist.bucket-mb); and, on the parameter list of a real model (I3D), the naive pattern —
// one blocking all-reduce per parameter after backward — against the reducer.
#include <fmt/format.h>
#include <mpi.h>
#include <torch/torch.h>

#include <chrono>

#include "core/bench_table.h"
#include "core/command_line.h"
#include "core/exit_codes.h"
#include "core/models/make_models.h"
#include "core/run_context.h"
#include "core/subcommand.h"
#include "dist/reducer.h"

namespace po = boost::program_options;

namespace avf {
namespace {

// Median seconds of `iters` runs of `fn`, after a warm-up, with the slowest rank's time (a collective
// is as fast as its slowest participant).
template <class Fn>
double time_it(int iters, Fn fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
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
    for (size_t i = 0; i < shapes.size(); ++i) params.push_back(register_parameter(fmt::format("p{}", i), torch::ones(shapes[i])));
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

// Seconds per step of the reducer on `model`: prepare, backward (hooks launch buckets), finalize.
double reducer_step(ShapedModel& model, dist::Communicator& comm, const Config& c, int iters) {
  dist::Reducer reducer(model, comm, {c.dist.bucket_mb, c.dist.first_bucket_mb});
  return time_it(iters, [&] {
    for (auto& p : model.params) p.mutable_grad() = torch::Tensor();
    reducer.prepare_for_backward();
    model.loss().backward();
    reducer.finalize();
  });
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.name = "bench";
  spec.summary = "Benchmarks with nccl-tests columns (size, time, algbw, busbw): allreduce.";
  spec.usage = "mpirun -np 2 avf bench allreduce [--min-bytes 1024] [--max-bytes 268435456] [--iters 10] [--json FILE]";
  spec.takes_config = true;
  std::string part, json;
  double min_bytes = 1024, max_bytes = 256.0 * (1 << 20);
  int iters = 10;
  spec.options.add_options()("part", po::value(&part)->required(), "allreduce")(
      "min-bytes", po::value(&min_bytes), "smallest message")("max-bytes", po::value(&max_bytes), "largest message")(
      "iters", po::value(&iters), "timed repetitions per size (median reported)")("json", po::value(&json), "write results here");
  spec.positional.add("part", 1);
  auto parsed = parse_args(spec, args);
  if (!parsed) return exit_code::ok;
  if (part != "allreduce") throw ConfigError(fmt::format("unknown benchmark '{}' (known: allreduce)", part));
  const Config& c = parsed->config;
  RunContext ctx = start_run(c);

  BenchTable table("all-reduce: raw MPI_Allreduce vs the reducer's bucketed path", ctx.world.size, ctx.world.rank == 0);
  table.header();
  for (double bytes = min_bytes; bytes <= max_bytes; bytes *= 4) {
    const int64_t floats = std::max<int64_t>(8, int64_t(bytes) / 4);
    std::vector<float> buf(floats, 1.0f);
    table.row("raw MPI_Allreduce", floats * 4.0, time_it(iters, [&] {
      MPI_Allreduce(MPI_IN_PLACE, buf.data(), int(floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }));
    ShapedModel model(std::vector<std::vector<int64_t>>(8, {std::max<int64_t>(1, floats / 8)}));
    table.row("reducer (8 params)", model.bytes(), reducer_step(model, *ctx.comm, c, iters));
  }

  // The naive pattern against the reducer on a real parameter list: I3D at model.width (1.0: 12.3 M
  // parameters in 188 tensors).
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : make_i3d(c.model, 2)->parameters()) shapes.push_back(p.sizes().vec());
  ShapedModel i3d(shapes);
  for (auto& p : i3d.params) p.mutable_grad() = torch::ones_like(p);
  table.row("naive: 1 blocking/param I3D", i3d.bytes(), time_it(iters, [&] {
    for (auto& p : i3d.params) ctx.comm->allreduce(p.grad(), dist::ReduceOp::avg, "naive")->wait();
  }));
  table.row("reducer: I3D parameters", i3d.bytes(), reducer_step(i3d, *ctx.comm, c, iters));
  table.save(json);
  return exit_code::ok;
}

}  // namespace avf
