// The training loop of every stage (`avf train`). One rank is the trivial world: the same code runs
// under mpirun/srun with gradients summed by the reducer. One optimizer step:
//   [agree to stop? -> preempt] -> learning rate of the schedule -> accumulate micro-batches (no_sync for
//   all but the last) -> finalize -> optimizer step
// and at each validation point: evaluate, checkpoint (rank 0), early stopping. Everything a resume
// needs is in the checkpoint, so an interrupted and resumed run ends with the weights of an
// uninterrupted one.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/base/metrics_log.h"
#include "core/data/stage_data.h"
#include "core/models/batch_norm.h"
#include "core/models/stage_model.h"
#include "core/training/checkpoint_store.h"
#include "core/training/diagnostics.h"
#include "core/training/early_stopping.h"
#include "core/training/lr_schedule.h"
#include "core/training/run_context.h"
#include "core/training/step_times.h"
#include "dist/reducer.h"
#include "dist/sampler.h"

namespace avf {

class DeviceBatches;

// Where the run is: what a checkpoint records and a resume restores.
struct TrainingPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // next batch of the epoch
  int64_t step = 0;   // optimizer steps done
};

class Trainer {
 public:
  // Sets up the world, the data, the model, the reducer and the optimizer, and resumes from
  // checkpoint.resume when given. Collective: every rank constructs its Trainer together.
  explicit Trainer(const Config& config);
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains to the end of the last epoch, max-steps, early stopping or a preemption signal; returns
  // the process exit code (exit_code::ok or exit_code::preempted).
  int run();

 private:
  enum class Outcome { go_on, stop, preempted };
  Outcome run_epoch();                                    // the rest of the current epoch (from pos_.batch)
  double step(DeviceBatches& batches, StepTimes& times);  // one optimizer step; returns its loss
  bool validate();                                        // evaluates, checkpoints; true when early stopping says stop
  void checkpoint(const Metrics* metrics);                // `best`/`last` (with metrics) or only `last` (without)
  int preempt();  // saves `last` and asks SLURM to requeue; exit_code::preempted
  void resume();
  void finish();  // the final record and the training curves
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& labels);

  const Config& c_;
  RunContext ctx_;
  bool rank0_;
  int64_t S_, L_;
  std::unique_ptr<StageData> data_;
  std::vector<SequenceRef> sequences_;
  std::pair<int64_t, int64_t> feature_dims_{0, 0};  // fusion: extracted audio / visual feature sizes
  std::unique_ptr<StageModel> model_;
  std::unique_ptr<dist::Reducer> reducer_;
  std::optional<GlobalBatchStatistics> global_batch_norm_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  double backward_scale_ = 1;
  double lr_ = 0;  // the rate of the latest step
  std::string checkpoint_dir_;
  std::unique_ptr<CheckpointStore> store_;
  EarlyStopping early_;
  TrainingPosition pos_;
  GradientNorms gradient_norms_;                   // log.diagnostics: this epoch's steps
  std::vector<SequenceRef> diagnostic_sequences_;  // log.diagnostics, fusion: validation sequences, made once
  int64_t validated_step_ = -1;  // the step of the last validation, so the end of training validates once
  MetricsLog metrics_;
  std::unique_ptr<dist::DistributedSampler> sampler_;
  int64_t batches_per_epoch_ = 0;
};

int run_training(const Config& config);  // Trainer(config).run()

}  // namespace avf
