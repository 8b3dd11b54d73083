// The training loop of every stage. One rank is the trivial world: the same code runs under
// mpirun/srun with gradients averaged by the reducer. Order of one optimizer step:
//   [agree to stop?] -> accumulate micro-batches (no_sync for all but the last) -> finalize -> SGD
// and after each validation: checkpoint (rank 0), early stopping. Everything a resume needs is in
// the checkpoint, so an interrupted and resumed run ends with the weights of an uninterrupted one.
#include "core/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "core/autocast.h"
#include "core/step_times.h"
#include "core/ccc_loss.h"
#include "core/evaluation.h"
#include "core/exit_codes.h"
#include "core/loader.h"
#include "core/log.h"
#include "core/metrics_log.h"
#include "core/models/batch_norm.h"
#include "core/plot.h"
#include "core/progress.h"
#include "core/run_context.h"
#include "core/stage_data.h"
#include "core/stage_model.h"
#include "core/version.h"
#include "dist/checkpoint_store.h"
#include "dist/checkpoint_torch.h"
#include "dist/early_stopping.h"
#include "dist/preemption.h"
#include "dist/reducer.h"
#include "dist/sampler.h"

namespace avf {
namespace {

struct Position {
  int64_t epoch = 0;
  int64_t batch = 0;  // next batch of the epoch
  int64_t step = 0;   // optimizer steps done
};

// Every rank's CPU generator state (dropout draws differ per rank), gathered to all ranks. Collective.
nlohmann::json gather_rng_states(dist::Communicator& comm) {
  const std::string mine = dist::cpu_rng_state();
  auto all = comm.allgatherv(torch::from_blob(const_cast<char*>(mine.data()), {int64_t(mine.size())}, torch::kByte).clone(),
                             "gather RNG states");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : all) out.push_back(nlohmann::json::binary(std::vector<uint8_t>(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel())));
  return out;
}

dist::CheckpointPayload make_payload(StageModel& model, torch::optim::Optimizer& opt, const Position& pos,
                                     const dist::EarlyStopping& early, nlohmann::json rng_states) {
  dist::CheckpointPayload p;
  p.epoch = pos.epoch;
  p.step = pos.step;
  p.model = dist::serialize_module(model.module());
  p.optimizer = dist::serialize_optimizer(opt);
  p.state["batch"] = pos.batch;
  p.state["early_stopping"] = early.to_json();
  p.state["cpu_rng"] = std::move(rng_states);
  return p;
}

dist::Metrics to_metrics(const Evaluation& e, const std::vector<std::string>& targets) {
  dist::Metrics m;
  for (size_t t = 0; t < targets.size(); ++t) m.ccc[targets[t]] = e.stats[t].ccc();
  return m;
}

}  // namespace

int run_training(const Config& c) {
  // First, before MPI, threads and data: a signal during start-up stops before the first step.
  dist::install_preemption_handler(c.checkpoint.signal);
  RunContext ctx = start_run(c);
  const bool rank0 = ctx.world.rank == 0;
  const int64_t S = c.data.subsequence_frames, L = c.data.sequence_frames / S;

  auto data = open_stage_data(c);
  const auto sequences = data->training_sequences(c.data.train_partition, L, c.data.stride / S);
  if (sequences.empty()) throw std::runtime_error(fmt::format("no training sequences in partition '{}'", c.data.train_partition));

  torch::manual_seed(c.train.seed);  // identical initial weights on every rank (then broadcast anyway)
  std::pair<int64_t, int64_t> dims{0, 0};
  if (c.train.stage == "fusion") {
    Batch probe = data->make_batch({sequences.front()}, 0, false);
    dims = {probe.audio.size(2), probe.visual.size(2)};
  }
  auto model = make_stage_model(c, int64_t(data->targets().size()), dims);
  model->module().to(ctx.device);
  // Gradients are summed over ranks: the loss carries the 1/N (see backward_scale below), so no
  // averaging pass follows the all-reduce.
  dist::Reducer reducer(model->module(), *ctx.comm,
                        {c.dist.bucket_mb, c.dist.first_bucket_mb, c.dist.gradient_sync == "bucketed",
                         /*average=*/false});
  // dist.global-statistics: BatchNorm over the global batch while training (eval mode uses the
  // running statistics, identical on every rank).
  std::optional<GlobalBatchStatistics> global_batch_norm;
  if (c.dist.global_statistics) global_batch_norm.emplace(ctx.comm.get());
  // One optimizer step's loss as backpropagated. Global: the CCC of the global micro-batch, whose
  // per-rank gradients add up to the whole batch's. Local: each rank's own CCC, divided by N so that
  // the summed gradients are the average. Either way divided by the micro-batches accumulated: with
  // train.accumulate A the step minimises the mean over its A micro-batches of each micro-batch's
  // CCC (over all ranks when global), not the CCC of all A micro-batches pooled.
  const auto loss_of = [&](const torch::Tensor& prediction, const torch::Tensor& labels) {
    return c.dist.global_statistics ? global_ccc_loss(prediction, labels, ctx.comm.get())
                                    : ccc_loss(prediction, labels);
  };
  const double backward_scale =
      1.0 / c.train.accumulate / (c.dist.global_statistics ? 1.0 : double(ctx.world.size));
  torch::optim::SGD optimizer(model->module().parameters(),
                              torch::optim::SGDOptions(c.train.lr).momentum(c.train.momentum).weight_decay(c.train.weight_decay));
  // Dropout draws differ per rank (as with independent GPUs), reproducibly.
  torch::manual_seed(c.train.seed * 1000003 + ctx.world.rank);

  const std::string ckpt_dir = dist::checkpoint_dir(c);
  // The stored configuration rebuilds the model: for fusion it records the extracted feature size.
  Config stored = c;
  if (c.train.stage == "fusion") stored.model.feature_dim = int(dims.first);
  dist::CheckpointStore store(ckpt_dir, c.checkpoint.metric, c.checkpoint.keep,
                              {config_to_ini(stored), ctx.world.size, version(), git_commit()});
  dist::EarlyStopping early;
  early.patience = c.train.patience;
  Position pos;
  int64_t validated_step = -1;  // the step of the last validation, so the end of training validates once
  // A crash in the middle of a save may have left `best` (or `last`) under a temp name: rank 0 puts
  // it back before any rank looks for a checkpoint.
  if (rank0 && !c.checkpoint.resume.empty()) store.recover();
  ctx.comm->barrier()->wait();
  if (auto ck = store.resume(c.checkpoint.resume)) {
    if (ck->metadata.contains("metrics") && ck->metadata["metrics"].is_object()) validated_step = ck->payload.step;
    dist::load_module(model->module(), ck->payload.model, ck->path);
    dist::load_optimizer(optimizer, ck->payload.optimizer, ck->path);
    pos = {ck->payload.epoch, ck->payload.state.at("batch").get<int64_t>(), ck->payload.step};
    early = dist::EarlyStopping::from_json(ck->payload.state.at("early_stopping"));
    early.patience = c.train.patience;
    const auto& rngs = ck->payload.state.at("cpu_rng");
    if (rngs.size() == size_t(ctx.world.size)) {
      const auto& rng = rngs[ctx.world.rank].get_binary();
      dist::set_cpu_rng_state(std::string(rng.begin(), rng.end()), ck->path);
    } else {
      // Another world size: the sampler re-shards by itself; dropout streams cannot carry over.
      log::warn("resuming a {}-rank checkpoint on {} ranks: batches are re-sharded and dropout is reseeded, so the run "
                "will not equal an uninterrupted one bit for bit", rngs.size(), ctx.world.size);
      torch::manual_seed(c.train.seed * 1000003 + ctx.world.rank + uint64_t(pos.step) * 7919);
    }
    log::info("resumed from {} at epoch {}, batch {}, step {}", ck->path, pos.epoch, pos.batch, pos.step);
  }

  MetricsLog metrics(c.log.metrics.empty() ? (std::filesystem::path(c.train.out) / "metrics.jsonl").string() : c.log.metrics,
                     rank0);
  dist::DistributedSampler sampler(int64_t(sequences.size()), ctx.world.size, ctx.world.rank, c.train.batch_size,
                                   c.train.seed);
  const int64_t batches_per_epoch = sampler.steps_per_epoch() / c.train.accumulate * c.train.accumulate;
  if (batches_per_epoch == 0)
    throw std::runtime_error(fmt::format("{} training sequences are fewer than one global batch ({} x {} ranks x {} accumulated)",
                                         sequences.size(), c.train.batch_size, ctx.world.size, c.train.accumulate));
  log::info("stage {}: {} training sequences, {} optimizer steps per epoch, global batch {}, checkpoints in {}",
            c.train.stage, sequences.size(), batches_per_epoch / c.train.accumulate,
            int64_t(c.train.batch_size) * ctx.world.size * c.train.accumulate, ckpt_dir);
  if (c.train.amp != "off")
    log::info("mixed precision: {} autocast for the forward pass (float32 loss, gradients and optimizer)", c.train.amp);

  auto validate = [&](const Position& at) -> bool {  // returns true when training should stop early
    // Every rank evaluates (and rank 0 saves) with rank 0's BatchNorm statistics.
    reducer.sync_buffers();
    auto eval = evaluate(*model, *data, c.data.valid_partition, stream_options(c), L, S, *ctx.comm);
    const auto m = to_metrics(eval, data->targets());
    const double value = dist::metric_value(m, c.checkpoint.metric);
    early.update(value, at.step);
    nlohmann::json rec{{"kind", "validation"}, {"epoch", at.epoch}, {"step", at.step}, {"metric", value}};
    for (const auto& [t, v] : m.ccc) rec["ccc"][t] = v;
    metrics.write(rec);
    std::string line;
    for (const auto& [t, v] : m.ccc) line += fmt::format(" {} {:.4f}", t, v);
    // Epochs are numbered from 0 as in the progress lines ("epoch 3: 16/16 steps" then "after epoch 3").
    log::info("validation after {} {} (step {}): CCC{} | {} {:.4f} (best {:.4f})",
              at.batch == 0 ? "epoch" : "a part of epoch", at.batch == 0 ? at.epoch - 1 : at.epoch, at.step, line,
              c.checkpoint.metric, value, early.best);
    validated_step = at.step;
    auto rngs = gather_rng_states(*ctx.comm);
    if (rank0) {
      const auto written = store.save(make_payload(*model, optimizer, at, early, std::move(rngs)), m);
      log::info("checkpoints written: {}", fmt::join(written, ", "));
    }
    ctx.comm->barrier("checkpoint barrier (rank 0 writing checkpoints)")->wait();
    return early.should_stop();
  };

  model->module().train();
  bool stop = false;
  while (pos.epoch < c.train.epochs && !stop) {
    std::vector<std::vector<SequenceRef>> batches;
    for (const auto& idx : sampler.epoch_batches(pos.epoch)) {
      std::vector<SequenceRef> refs;
      for (int64_t i : idx) refs.push_back(sequences[i]);
      batches.push_back(std::move(refs));
    }
    batches.resize(batches_per_epoch);
    // Crops differ per rank and epoch; batch k of the epoch always gets the same ones.
    // Crops depend on the epoch, the batch and the sequence, not on the rank (stage_data.cpp), so
    // batch k of the epoch always gets the same ones whatever the number of ranks.
    Loader loader(*data, std::move(batches), size_t(pos.batch), batch_seed(c.train.seed, uint64_t(pos.epoch)), true,
                  c.data.reader_threads, c.data.prefetch_batches);
    Progress progress(fmt::format("epoch {}", pos.epoch), batches_per_epoch / c.train.accumulate, "steps",
                      c.log.progress, c.log.interval);
    progress.advance(pos.batch / c.train.accumulate);
    const auto epoch_start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t loss_n = 0;
    StepTimes times;
    while (pos.batch < batches_per_epoch && !stop) {
      if (dist::agree_to_stop()) {
        log::warn("preemption signal received: saving `last` at epoch {}, batch {}, step {}", pos.epoch, pos.batch, pos.step);
        auto rngs = gather_rng_states(*ctx.comm);
        if (rank0) store.save_last(make_payload(*model, optimizer, pos, early, std::move(rngs)));
        ctx.comm->barrier("checkpoint barrier (rank 0 writing `last` on preemption)")->wait();
        if (rank0 && c.checkpoint.requeue) dist::requeue_slurm_job();
        return exit_code::preempted;
      }
      Lap lap;
      optimizer.zero_grad();
      times.optimizer += lap();
      double step_loss = 0;
      for (int k = 0; k < c.train.accumulate; ++k, ++pos.batch) {
        Batch b = *loader.next();
        times.data_wait += lap();
        auto labels = b.labels.to(ctx.device);
        if (b.audio.defined()) b.audio = b.audio.to(ctx.device);
        // Face clips stay uint8 until the model converts them on its device (core/visual_input.h).
        if (b.visual.defined() && b.visual.scalar_type() != torch::kUInt8) b.visual = b.visual.to(ctx.device);
        reducer.set_sync(k + 1 == c.train.accumulate);
        reducer.prepare_for_backward();
        torch::Tensor prediction;
        {
          Autocast amp(ctx.device, c.train.amp);
          prediction = model->forward(b);
        }
        // The loss in float32 whatever the forward ran in.
        auto loss = loss_of(prediction.to(torch::kFloat), labels);
        step_loss += loss.item<double>() / c.train.accumulate;
        times.forward += lap();
        (loss * backward_scale).backward();
        times.backward += lap();
        reducer.finalize();
        times.exposed_comm += lap();
      }
      optimizer.step();
      times.optimizer += lap();
      ++times.steps;
      times.samples += int64_t(c.train.accumulate) * c.train.batch_size * ctx.world.size;
      ++pos.step;
      loss_sum += step_loss, ++loss_n;
      progress.advance(1, fmt::format("loss {:.4f}", step_loss));
      if (pos.batch >= batches_per_epoch) ++pos.epoch, pos.batch = 0;  // position after this step
      const bool last_step = c.train.max_steps > 0 && pos.step >= c.train.max_steps;
      const bool epoch_done = pos.batch == 0;
      if ((c.checkpoint.every > 0 && pos.step % c.checkpoint.every == 0) || (c.checkpoint.every == 0 && epoch_done) ||
          last_step) {
        stop = validate(pos) || last_step;
        model->module().train();
      }
      if (epoch_done) break;
    }
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    nlohmann::json record{{"kind", "train"}, {"epoch", pos.batch == 0 ? pos.epoch - 1 : pos.epoch}, {"step", pos.step},
                          {"loss", loss_n ? loss_sum / loss_n : NAN}, {"seconds", seconds}};
    record.update(times.to_json());
    metrics.write(record);
    if (early.should_stop()) log::info("early stopping: no improvement in {} validations", early.patience);
  }
  // The end of training always validates and saves, whatever checkpoint.every is: `last` holds the
  // final weights and `best` has seen them.
  if (validated_step != pos.step) {
    validate(pos);
    model->module().train();
  }
  log::info("done: best {} = {:.4f} at step {}; checkpoints in {}", c.checkpoint.metric, early.best, early.best_step, ckpt_dir);
  // The last record says the run finished (not crashed, not preempted): the sweep wrapper tells a
  // completed trial from a launcher that exited 0 without running the trainer by it.
  metrics.write({{"kind", "done"}, {"epoch", pos.epoch}, {"step", pos.step}, {"best", early.best},
                 {"best_step", early.best_step}, {"stopped_early", early.should_stop()}});
  if (rank0) {
    const std::string png = (std::filesystem::path(c.train.out) / "training.png").string();
    if (plot_training_curves(metrics.path(), png, fmt::format("{} stage: {}", c.train.stage, c.train.out)))
      log::info("training curves: {}", png);
  }
  return exit_code::ok;
}

}  // namespace avf
