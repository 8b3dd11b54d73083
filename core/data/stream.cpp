#include "core/data/stream.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <set>

#include "core/base/lap.h"
#include "core/base/log.h"
#include "core/data/loader.h"
#include "dist/sampler.h"

namespace avf {

StreamOptions stream_options(const Config& c) {
  return {c.train.batch_size, c.data.reader_threads, c.data.prefetch_batches};
}

StreamTimes& StreamTimes::operator+=(const StreamTimes& o) {
  data += o.data, forward += o.forward, rest += o.rest;
  videos += o.videos, frames += o.frames, sequences += o.sequences, batches += o.batches;
  network_frames += o.network_frames;
  return *this;
}

nlohmann::json StreamTimes::to_json() const {
  return {{"videos", videos},
          {"frames", frames},
          {"sequences", sequences},
          {"batches", batches},
          {"network_frames", network_frames},
          {"seconds", seconds()},
          {"frames_per_s", frames_per_s()},
          {"data_s", data},
          {"forward_s", forward},
          {"rest_s", rest}};
}

std::string StreamTimes::summary() const {
  const double t = std::max(seconds(), 1e-12);
  return fmt::format(
      "{:.1f} frames/s ({} frames of {} videos in {:.2f} s: data {:.2f} s ({:.0f}%), forward {:.2f} s "
      "({:.0f}%), rest {:.2f} s ({:.0f}%); {} sequences in {} batches)",
      frames_per_s(), frames, videos, seconds(), data, 100 * data / t, forward, 100 * forward / t, rest, 100 * rest / t,
      sequences, batches);
}

std::vector<size_t> videos_of_rank(const std::vector<size_t>& videos, const dist::Communicator& comm) {
  std::vector<size_t> out;
  for (int64_t i : dist::shard_range(int64_t(videos.size()), comm.size(), comm.rank())) out.push_back(videos[i]);
  return out;
}

std::vector<std::vector<SequenceRef>> covering_batches(const StageData& data, const std::vector<size_t>& videos,
                                                       const std::vector<size_t>& mine, int64_t L, int batch_size,
                                                       int64_t offset) {
  const std::set<size_t> own(mine.begin(), mine.end());
  std::vector<std::vector<SequenceRef>> out;
  std::vector<SequenceRef> batch;
  bool keep = false;
  auto close = [&] {
    if (keep) out.push_back(batch);
    batch.clear(), keep = false;
  };
  for (size_t v : videos)
    for (auto ref : data.covering_sequences(v, L)) {
      ref.offset = offset;
      batch.push_back(ref);
      keep = keep || own.count(v);
      if (int(batch.size()) == batch_size) close();
    }
  close();
  return out;
}

void stream_batches(const StageData& data, std::vector<std::vector<SequenceRef>> batches,
                    const std::vector<size_t>& mine, int64_t L, int64_t S, const StreamOptions& o,
                    const StreamForward& forward, const StreamTake& take, StreamTimes& times) {
  times.videos += int64_t(mine.size());
  for (size_t v : mine) times.frames += data.videos()[v].n_frames;
  Lap lap;
  // Evaluation batches: centre crops, no flip, so the seed plays no part.
  Loader loader(data, std::move(batches), 0, 0, false, o.reader_threads, o.prefetch);
  while (auto b = loader.next()) {
    times.data += lap();
    const auto outputs = forward(*b);
    times.forward += lap();
    take(*b, outputs);
    times.sequences += int64_t(b->refs.size()), ++times.batches;
    times.network_frames += int64_t(b->refs.size()) * L * S;
    times.rest += lap();
  }
  times.data += lap();
}

std::vector<StreamTimes> gather_times(const StreamTimes& t, dist::Communicator& comm) {
  constexpr int64_t n = 8;
  const double mine[n] = {t.data,
                          t.forward,
                          t.rest,
                          double(t.videos),
                          double(t.frames),
                          double(t.sequences),
                          double(t.batches),
                          double(t.network_frames)};
  auto all = torch::empty({comm.size() * n}, torch::kDouble);
  comm.allgather(torch::from_blob(const_cast<double*>(mine), {n}, torch::kDouble).clone(), all, "stream times")->wait();
  std::vector<StreamTimes> out(comm.size());
  for (int r = 0; r < comm.size(); ++r) {
    const double* x = all.data_ptr<double>() + r * n;
    out[r].data = x[0], out[r].forward = x[1], out[r].rest = x[2];
    out[r].videos = int64_t(x[3]), out[r].frames = int64_t(x[4]), out[r].sequences = int64_t(x[5]);
    out[r].batches = int64_t(x[6]), out[r].network_frames = int64_t(x[7]);
  }
  return out;
}

void log_times(const std::string& what, const std::vector<StreamTimes>& ranks) {
  for (size_t r = 0; r < ranks.size(); ++r) log::info("{}: rank {}: {}", what, r, ranks[r].summary());
}

nlohmann::json times_json(const std::vector<StreamTimes>& ranks) {
  auto out = nlohmann::json::array();
  for (size_t r = 0; r < ranks.size(); ++r) {
    auto j = ranks[r].to_json();
    j["rank"] = r;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace avf
