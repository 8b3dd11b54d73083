// Evaluation of a stage model on a partition: every sub-sequence of every video is predicted once
// (ranks split the videos; streamed as core/data/stream.h describes), expanded to the frame grid, and scored with CCC
// against the frame labels. The metric is exact over all ranks: each rank's float64 statistics are gathered and merged
// in rank order (Chan's update), not averaged per rank.
#pragma once
#include <string>
#include <vector>

#include "core/data/stage_data.h"
#include "core/data/stream.h"
#include "core/evaluation/ccc.h"
#include "core/models/stage_model.h"
#include "dist/communicator.h"

namespace avf {

struct VideoPrediction {
  size_t video;
  std::vector<float> frames;  // [n_frames, T] per-frame predictions
};

struct Evaluation {
  std::vector<CccStats> stats;               // per target, over every frame of every video of all ranks
  std::vector<VideoPrediction> predictions;  // this rank's videos (all videos after gather_predictions)
  StreamTimes times;                         // this rank's frames/s and time split (core/data/stream.h)
  double mean_ccc() const;
};

// L sub-sequences of S frames per sequence; batches and reader threads from `options`. Streams the
// partition as core/data/stream.h describes, so predictions do not depend on the number of ranks.
Evaluation evaluate(StageModel& model, const StageData& data, const std::string& partition,
                    const StreamOptions& options, int64_t L, int64_t S, dist::Communicator& comm);
// The same over some videos (every rank passes the same list), e.g. a benchmark's first few.
Evaluation evaluate_videos(StageModel& model, const StageData& data, const std::vector<size_t>& videos,
                           const StreamOptions& options, int64_t L, int64_t S, dist::Communicator& comm);

// Merges statistics of all ranks exactly (same result on every rank).
std::vector<CccStats> merge_across_ranks(const std::vector<CccStats>& local, dist::Communicator& comm);
// Gathers every rank's per-video predictions to every rank (for post-processing and reports).
std::vector<VideoPrediction> gather_predictions(const std::vector<VideoPrediction>& local, const StageData& data,
                                                dist::Communicator& comm);

// Per-frame CSV: frame, time, then per target the prediction and the label (NaN where unknown).
void write_prediction_csv(const std::string& path, const std::vector<float>& frames, const std::vector<float>& labels,
                          const std::vector<std::string>& targets, int64_t n_frames, double fps);

}  // namespace avf
