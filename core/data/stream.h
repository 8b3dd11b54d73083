// Streaming every frame of some videos once through the networks, as `avf extract`, `avf evaluate`
// and validation do:
// - batches of covering sequences that run on across video boundaries, so batches are full (the
//   batch size the networks were measured at) instead of every video ending in a partial one;
// - the batches are cut from all the videos in order, the same on every rank, and a rank runs those
//   holding a sequence of its videos: each sequence meets the same batch whatever the number of
//   ranks, so results do not depend on it (a batch straddling two ranks' videos runs on both);
// - batches are assembled ahead by the prefetching Loader's reader threads while the networks run;
// - the time is split into data (waiting for the loader: reading, decompressing, assembling),
//   forward (the networks, with their inputs' conversion and copy to the device and the results'
//   copy back: on CUDA where the host waits for the kernels) and rest (scattering results into
//   per-video arrays; callers add their gathers and writing).
// Frames/s count each frame of each of the rank's videos once.
#pragma once
#include <torch/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/data/stage_data.h"
#include "dist/communicator.h"

namespace avf {

struct StreamOptions {
  int batch_size = 16;     // sequences per batch (train.batch-size)
  int reader_threads = 2;  // data.reader-threads
  int prefetch = 4;        // data.prefetch-batches
};
StreamOptions stream_options(const Config& c);

struct StreamTimes {
  double data = 0, forward = 0, rest = 0;  // seconds
  int64_t videos = 0, frames = 0;          // this rank's videos and their frames
  int64_t sequences = 0, batches = 0;      // run through the networks
  int64_t network_frames = 0;              // sequences x L x S (covering sequences overlap at a video's end)

  double seconds() const { return data + forward + rest; }
  double frames_per_s() const { return seconds() > 0 ? double(frames) / seconds() : 0.0; }
  StreamTimes& operator+=(const StreamTimes& o);
  nlohmann::json to_json() const;
  std::string summary() const;  // "N frames/s (F frames of V videos in T s: data ..., forward ..., rest ...)"
};

// The part of `videos` (every rank passes the same list) that this rank streams: dist::shard_range's.
std::vector<size_t> videos_of_rank(const std::vector<size_t>& videos, const dist::Communicator& comm);

// The batches that stream `mine` (this rank's part of `videos`): the covering sequences of all of
// `videos` in order (`offset` frames past the sub-sequence grid), cut into batches of `batch_size`, and
// of those the ones holding a sequence of `mine`.
std::vector<std::vector<SequenceRef>> covering_batches(const StageData& data, const std::vector<size_t>& videos,
                                                       const std::vector<size_t>& mine, int64_t L, int batch_size,
                                                       int64_t offset = 0);

// Runs forward(batch) on each batch (its outputs on the CPU) and take(batch, outputs), in order, with
// the next batches assembled by the loader meanwhile. Adds to `times`; take() must ignore sequences
// of videos that are not the rank's (a shared batch's).
using StreamForward = std::function<std::vector<torch::Tensor>(const Batch&)>;
using StreamTake = std::function<void(const Batch&, const std::vector<torch::Tensor>&)>;
void stream_batches(const StageData& data, std::vector<std::vector<SequenceRef>> batches,
                    const std::vector<size_t>& mine, int64_t L, int64_t S, const StreamOptions& options,
                    const StreamForward& forward, const StreamTake& take, StreamTimes& times);

// Every rank's times, in rank order (a collective).
std::vector<StreamTimes> gather_times(const StreamTimes& mine, dist::Communicator& comm);
// One log line per rank, "<what>: rank r: <summary>", and the same as a JSON array.
void log_times(const std::string& what, const std::vector<StreamTimes>& ranks);
nlohmann::json times_json(const std::vector<StreamTimes>& ranks);

}  // namespace avf
