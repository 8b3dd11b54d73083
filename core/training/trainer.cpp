#include "core/training/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/base/exit_codes.h"
#include "core/base/lap.h"
#include "core/base/log.h"
#include "core/base/plot.h"
#include "core/base/progress.h"
#include "core/base/version.h"
#include "core/data/device_batches.h"
#include "core/data/loader.h"
#include "core/evaluation/evaluation.h"
#include "core/models/autocast.h"
#include "core/training/ccc_loss.h"
#include "core/training/checkpoint_torch.h"
#include "core/training/optimizer.h"
#include "dist/preemption.h"

namespace avf {
namespace {

// Every rank's CPU generator state (dropout draws differ per rank), gathered to all ranks. Collective.
nlohmann::json gather_rng_states(dist::Communicator& comm) {
  const std::string mine = cpu_rng_state();
  auto all =
      comm.allgatherv(torch::from_blob(const_cast<char*>(mine.data()), {int64_t(mine.size())}, torch::kByte).clone(),
                      "gather RNG states");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : all)
    out.push_back(
        nlohmann::json::binary(std::vector<uint8_t>(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel())));
  return out;
}

Metrics to_metrics(const Evaluation& e, const std::vector<std::string>& targets) {
  Metrics m;
  for (size_t t = 0; t < targets.size(); ++t) m.ccc[targets[t]] = e.stats[t].ccc();
  return m;
}

// First, before MPI, threads and data: a signal during start-up stops before the first step.
RunContext start_training_run(const Config& c) {
  dist::install_preemption_handler(c.checkpoint.signal);
  return start_run(c);
}

}  // namespace

Trainer::Trainer(const Config& c) : c_(c), ctx_(start_training_run(c)) {
  rank0_ = ctx_.world.rank == 0;
  S_ = c.data.subsequence_frames, L_ = c.data.sequence_frames / S_;

  data_ = open_stage_data(c);
  sequences_ = data_->training_sequences(c.data.train_partition, L_, S_, c.data.stride);
  if (sequences_.empty())
    throw std::runtime_error(fmt::format("no training sequences in partition '{}'", c.data.train_partition));

  torch::manual_seed(c.train.seed);  // identical initial weights on every rank (then broadcast anyway)
  if (c.train.stage == "fusion") {
    Batch probe = data_->make_batch({sequences_.front()}, 0, false);
    feature_dims_ = {probe.audio.size(2), probe.visual.size(2)};
  }
  model_ = make_stage_model(c, int64_t(data_->targets().size()), feature_dims_);
  model_->module().to(ctx_.device);
  // Gradients are summed over ranks: the loss carries the 1/N (backward_scale_), so no averaging
  // pass follows the all-reduce.
  reducer_ =
      std::make_unique<dist::Reducer>(model_->module(), *ctx_.comm,
                                      dist::ReducerOptions{c.dist.bucket_mb, c.dist.first_bucket_mb,
                                                           c.dist.gradient_sync == "bucketed", /*average=*/false});
  // dist.global-statistics: BatchNorm over the global batch while training (eval mode uses the
  // running statistics, identical on every rank).
  if (c.dist.global_statistics) global_batch_norm_.emplace(ctx_.comm.get());
  // Global statistics: the loss is the CCC of the global micro-batch, whose per-rank gradients add up
  // to the whole batch's. Local: each rank's own CCC, divided by N so the summed gradients are the
  // average. Either way divided by the micro-batches accumulated: with train.accumulate A a step
  // minimises the mean over its A micro-batches of each micro-batch's CCC (over all ranks when
  // global), not the CCC of all A micro-batches pooled.
  backward_scale_ = 1.0 / c.train.accumulate / (c.dist.global_statistics ? 1.0 : double(ctx_.world.size));
  optimizer_ = make_optimizer(c.train, model_->module().parameters());
  // Dropout draws differ per rank (as with independent GPUs), reproducibly.
  torch::manual_seed(c.train.seed * 1000003 + ctx_.world.rank);

  checkpoint_dir_ = checkpoint_dir(c);
  // The stored configuration rebuilds the model: for fusion it records the extracted feature size.
  Config stored = c;
  if (c.train.stage == "fusion") stored.model.feature_dim = int(feature_dims_.first);
  store_ = std::make_unique<CheckpointStore>(checkpoint_dir_, c.checkpoint.metric, c.checkpoint.keep,
                                             RunInfo{config_to_ini(stored), ctx_.world.size, version(), git_commit()});
  sampler_ = std::make_unique<dist::DistributedSampler>(int64_t(sequences_.size()), ctx_.world.size, ctx_.world.rank,
                                                        c.train.batch_size, c.train.seed);
  batches_per_epoch_ = sampler_->steps_per_epoch() / c.train.accumulate * c.train.accumulate;
  if (batches_per_epoch_ == 0)
    throw std::runtime_error(
        fmt::format("{} training sequences are fewer than one global batch ({} x {} ranks x {} accumulated)",
                    sequences_.size(), c.train.batch_size, ctx_.world.size, c.train.accumulate));
  // The run's optimizer steps, for the cosine schedule's end.
  int64_t total_steps = int64_t(c.train.epochs) * (batches_per_epoch_ / c.train.accumulate);
  if (c.train.max_steps > 0) total_steps = std::min<int64_t>(total_steps, c.train.max_steps);
  schedule_ = std::make_unique<LrSchedule>(c.train, total_steps);
  early_.patience = c.train.patience;
  resume();

  metrics_ = MetricsLog(
      c.log.metrics.empty() ? (std::filesystem::path(c.train.out) / "metrics.jsonl").string() : c.log.metrics, rank0_);
  log::info("stage {}: {} training sequences, {} optimizer steps per epoch, global batch {}, checkpoints in {}",
            c.train.stage, sequences_.size(), batches_per_epoch_ / c.train.accumulate,
            int64_t(c.train.batch_size) * ctx_.world.size * c.train.accumulate, checkpoint_dir_);
  if (c.train.amp != "off")
    log::info("mixed precision: {} autocast for the forward pass (float32 loss, gradients and optimizer)", c.train.amp);
}

void Trainer::resume() {
  // A crash in the middle of a save may have left `best` (or `last`) under a temp name: rank 0 puts
  // it back before any rank looks for a checkpoint.
  if (rank0_ && !c_.checkpoint.resume.empty()) store_->recover();
  ctx_.comm->barrier()->wait();
  auto ck = store_->resume(c_.checkpoint.resume);
  if (!ck) return;
  if (ck->metadata.contains("metrics") && ck->metadata["metrics"].is_object()) validated_step_ = ck->payload.step;
  load_module(model_->module(), ck->payload.model, ck->path);
  load_optimizer(*optimizer_, ck->payload.optimizer, ck->path);
  pos_ = {ck->payload.epoch, ck->payload.state.at("batch").get<int64_t>(), ck->payload.step};
  early_ = EarlyStopping::from_json(ck->payload.state.at("early_stopping"));
  early_.patience = c_.train.patience;
  if (ck->payload.state.contains("lr_schedule")) schedule_->load(ck->payload.state["lr_schedule"]);
  const auto& rngs = ck->payload.state.at("cpu_rng");
  if (rngs.size() == size_t(ctx_.world.size)) {
    const auto& rng = rngs[ctx_.world.rank].get_binary();
    set_cpu_rng_state(std::string(rng.begin(), rng.end()), ck->path);
  } else {
    // Another world size: the sampler re-shards by itself; dropout streams cannot carry over.
    log::warn(
        "resuming a {}-rank checkpoint on {} ranks: batches are re-sharded and dropout is reseeded, so the run "
        "will not equal an uninterrupted one bit for bit",
        rngs.size(), ctx_.world.size);
    torch::manual_seed(c_.train.seed * 1000003 + ctx_.world.rank + uint64_t(pos_.step) * 7919);
  }
  log::info("resumed from {} at epoch {}, batch {}, step {}", ck->path, pos_.epoch, pos_.batch, pos_.step);
}

int Trainer::run() {
  model_->module().train();
  Outcome outcome = Outcome::go_on;
  while (pos_.epoch < c_.train.epochs && outcome == Outcome::go_on) outcome = run_epoch();
  if (outcome == Outcome::preempted) return preempt();
  // The end of training always validates and saves, whatever checkpoint.every is: `last` holds the
  // final weights and `best` has seen them.
  if (validated_step_ != pos_.step) validate();
  finish();
  return exit_code::ok;
}

Trainer::Outcome Trainer::run_epoch() {
  std::vector<std::vector<SequenceRef>> batches;
  for (const auto& idx : sampler_->epoch_batches(pos_.epoch)) {
    std::vector<SequenceRef> refs;
    for (int64_t i : idx) refs.push_back(sequences_[i]);
    batches.push_back(std::move(refs));
  }
  batches.resize(batches_per_epoch_);
  // Crops depend on the epoch, the batch and the sequence, not on the rank (stage_data.cpp), so
  // batch k of the epoch always gets the same ones whatever the number of ranks.
  Loader loader(*data_, std::move(batches), size_t(pos_.batch), batch_seed(c_.train.seed, uint64_t(pos_.epoch)), true,
                c_.data.reader_threads, c_.data.prefetch_batches);
  // On a GPU the next batch's copy to the device overlaps this step's compute.
  DeviceBatches on_device([&loader] { return loader.next(); }, ctx_.device);
  Progress progress(fmt::format("epoch {}", pos_.epoch), batches_per_epoch_ / c_.train.accumulate, "steps",
                    c_.log.progress, c_.log.interval);
  progress.advance(pos_.batch / c_.train.accumulate);
  const int64_t epoch = pos_.epoch;
  Lap epoch_time;
  double loss_sum = 0;
  int64_t loss_n = 0;
  StepTimes times;
  Outcome outcome = Outcome::go_on;
  while (pos_.epoch == epoch) {
    if (dist::agree_to_stop()) {
      outcome = Outcome::preempted;
      break;
    }
    const double step_loss = step(on_device, times);
    loss_sum += step_loss, ++loss_n;
    progress.advance(1, fmt::format("loss {:.4f} lr {:.3g}", step_loss, lr_));
    const bool last_step = c_.train.max_steps > 0 && pos_.step >= c_.train.max_steps;
    const bool epoch_done = pos_.batch == 0;
    const bool due = c_.checkpoint.every > 0 ? pos_.step % c_.checkpoint.every == 0 : epoch_done;
    if (due || last_step) {
      if (validate() || last_step) outcome = Outcome::stop;
      model_->module().train();
    }
    if (outcome != Outcome::go_on) break;
  }
  if (outcome == Outcome::preempted) return outcome;
  progress.finish();
  nlohmann::json record{{"kind", "train"},
                        {"epoch", epoch},
                        {"step", pos_.step},
                        {"loss", loss_n ? loss_sum / loss_n : NAN},
                        {"seconds", epoch_time()}};
  record.update(times.to_json());
  if (c_.log.diagnostics) record["grad_norm"] = gradient_norms_.mean_and_reset();
  metrics_.write(record);
  if (early_.should_stop()) log::info("early stopping: no improvement in {} validations", early_.patience);
  return outcome;
}

torch::Tensor Trainer::loss(const torch::Tensor& prediction, const torch::Tensor& labels) {
  return c_.dist.global_statistics ? global_ccc_loss(prediction, labels, ctx_.comm.get())
                                   : ccc_loss(prediction, labels);
}

double Trainer::step(DeviceBatches& batches, StepTimes& times) {
  Lap lap;
  lr_ = schedule_->rate(pos_.step, pos_.epoch);
  set_learning_rate(*optimizer_, lr_);
  optimizer_->zero_grad();
  times.optimizer += lap();
  double step_loss = 0;
  for (int k = 0; k < c_.train.accumulate; ++k, ++pos_.batch) {
    Batch b = *batches.next();
    times.data_wait += lap();
    auto labels = b.labels.to(ctx_.device);
    if (b.audio.defined()) b.audio = b.audio.to(ctx_.device);
    // Face clips stay uint8 until the model converts them on its device (core/data/visual_input.h).
    if (b.visual.defined() && b.visual.scalar_type() != torch::kUInt8) b.visual = b.visual.to(ctx_.device);
    reducer_->set_sync(k + 1 == c_.train.accumulate);
    reducer_->prepare_for_backward();
    torch::Tensor prediction;
    {
      Autocast amp(ctx_.device, c_.train.amp);
      prediction = model_->forward(b);
    }
    // The loss in float32 whatever the forward ran in.
    auto l = loss(prediction.to(torch::kFloat), labels);
    step_loss += l.item<double>() / c_.train.accumulate;
    times.forward += lap();
    (l * backward_scale_).backward();
    times.backward += lap();
    reducer_->finalize();
    times.exposed_comm += lap();
  }
  // The gradients after the all-reduce, the same on every rank.
  if (c_.log.diagnostics) gradient_norms_.add(model_->module());
  optimizer_->step();
  times.optimizer += lap();
  ++times.steps;
  times.samples += int64_t(c_.train.accumulate) * c_.train.batch_size * ctx_.world.size;
  ++pos_.step;
  if (pos_.batch >= batches_per_epoch_) ++pos_.epoch, pos_.batch = 0;  // the position after this step
  return step_loss;
}

bool Trainer::validate() {
  // Every rank evaluates (and rank 0 saves) with rank 0's BatchNorm statistics.
  reducer_->sync_buffers();
  const auto eval = evaluate(*model_, *data_, c_.data.valid_partition, stream_options(c_), L_, S_, *ctx_.comm);
  const auto m = to_metrics(eval, data_->targets());
  const double value = metric_value(m, c_.checkpoint.metric);
  early_.update(value, pos_.step);
  schedule_->on_validation(value);
  nlohmann::json rec{{"kind", "validation"}, {"epoch", pos_.epoch}, {"step", pos_.step}, {"metric", value}};
  for (const auto& [t, v] : m.ccc) rec["ccc"][t] = v;
  // Rank 0 only (it alone writes metrics): an extra pass in eval mode that draws no random numbers, so
  // the run's weights are those of a run without it.
  if (c_.log.diagnostics && rank0_ && c_.train.stage == "fusion") {
    if (diagnostic_sequences_.empty())
      diagnostic_sequences_ = data_->training_sequences(c_.data.valid_partition, L_, S_, L_ * S_);
    rec["attention_entropy"] =
        attention_entropy(*model_, *data_, diagnostic_sequences_, c_.train.batch_size, ctx_.device);
  }
  metrics_.write(rec);
  std::string line;
  for (const auto& [t, v] : m.ccc) line += fmt::format(" {} {:.4f}", t, v);
  // Epochs are numbered from 0 as in the progress lines ("epoch 3: 16/16 steps" then "after epoch 3").
  log::info("validation after {} {} (step {}): CCC{} | {} {:.4f} (best {:.4f})",
            pos_.batch == 0 ? "epoch" : "a part of epoch", pos_.batch == 0 ? pos_.epoch - 1 : pos_.epoch, pos_.step,
            line, c_.checkpoint.metric, value, early_.best);
  validated_step_ = pos_.step;
  checkpoint(&m);
  return early_.should_stop();
}

void Trainer::checkpoint(const Metrics* metrics) {
  auto rngs = gather_rng_states(*ctx_.comm);  // collective: every rank takes part
  if (rank0_) {
    CheckpointPayload p;
    p.epoch = pos_.epoch;
    p.step = pos_.step;
    p.model = serialize_module(model_->module());
    p.optimizer = serialize_optimizer(*optimizer_);
    p.state["batch"] = pos_.batch;
    p.state["early_stopping"] = early_.to_json();
    p.state["lr_schedule"] = schedule_->to_json();
    p.state["cpu_rng"] = std::move(rngs);
    if (metrics) {
      const auto written = store_->save(std::move(p), *metrics);
      log::info("checkpoints written: {}", fmt::join(written, ", "));
    } else {
      store_->save_last(std::move(p));
    }
  }
  ctx_.comm
      ->barrier(metrics ? "checkpoint barrier (rank 0 writing checkpoints)"
                        : "checkpoint barrier (rank 0 writing `last` on preemption)")
      ->wait();
}

int Trainer::preempt() {
  log::warn("preemption signal received: saving `last` at epoch {}, batch {}, step {}", pos_.epoch, pos_.batch,
            pos_.step);
  checkpoint(nullptr);
  if (rank0_ && c_.checkpoint.requeue) dist::requeue_slurm_job();
  return exit_code::preempted;
}

void Trainer::finish() {
  log::info("done: best {} = {:.4f} at step {}; checkpoints in {}", c_.checkpoint.metric, early_.best, early_.best_step,
            checkpoint_dir_);
  // The last record says the run finished (not crashed, not preempted): the sweep wrapper tells a
  // completed trial from a launcher that exited 0 without running the trainer by it.
  metrics_.write({{"kind", "done"},
                  {"epoch", pos_.epoch},
                  {"step", pos_.step},
                  {"best", early_.best},
                  {"best_step", early_.best_step},
                  {"stopped_early", early_.should_stop()}});
  if (rank0_) {
    const std::string png = (std::filesystem::path(c_.train.out) / "training.png").string();
    if (plot_training_curves(metrics_.path(), png, fmt::format("{} stage: {}", c_.train.stage, c_.train.out)))
      log::info("training curves: {}", png);
  }
}

int run_training(const Config& config) { return Trainer(config).run(); }

}  // namespace avf
