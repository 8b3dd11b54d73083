#include "core/evaluation/evaluation.h"

#include <sstream>

#include "core/base/files.h"

#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "core/base/lap.h"
#include "core/data/geometry.h"

namespace avf {

double Evaluation::mean_ccc() const {
  double sum = 0;
  for (const auto& s : stats) sum += s.ccc();
  return stats.empty() ? NAN : sum / stats.size();
}

std::vector<CccStats> merge_across_ranks(const std::vector<CccStats>& local, dist::Communicator& comm) {
  // Six moments per target: n, means, centred second moments (population, times n).
  auto mine = torch::empty({int64_t(local.size()), 6}, torch::kDouble);
  for (size_t t = 0; t < local.size(); ++t) {
    const auto& s = local[t];
    const double n = s.count();
    const double row[6] = {
        n, n ? s.mean_x() : 0, n ? s.mean_y() : 0, n ? s.var_x() * n : 0, n ? s.var_y() * n : 0, n ? s.cov() * n : 0};
    std::copy_n(row, 6, mine.data_ptr<double>() + t * 6);
  }
  auto all = torch::empty({comm.size() * mine.numel()}, torch::kDouble);
  comm.allgather(mine.reshape(-1), all, "evaluation statistics")->wait();
  std::vector<CccStats> merged(local.size());
  for (int r = 0; r < comm.size(); ++r) {
    for (size_t t = 0; t < local.size(); ++t) {
      const double* m = all.data_ptr<double>() + (r * local.size() + t) * 6;
      if (m[0] == 0) continue;
      // Rebuild rank r's statistics from its power sums about its own means (exact: the centred
      // moments are stored), then merge.
      merged[t].merge(CccStats::from_sums({m[0], 0, 0, m[3], m[4], m[5]}, m[1], m[2]));
    }
  }
  return merged;
}

Evaluation evaluate(StageModel& model, const StageData& data, const std::string& partition, const StreamOptions& o,
                    int64_t L, int64_t S, dist::Communicator& comm) {
  return evaluate_videos(model, data, data.videos_in(partition), o, L, S, comm);
}

Evaluation evaluate_videos(StageModel& model, const StageData& data, const std::vector<size_t>& videos,
                           const StreamOptions& o, int64_t L, int64_t S, dist::Communicator& comm) {
  const auto mine = videos_of_rank(videos, comm);
  const int64_t T = data.targets().size();
  Evaluation result;
  torch::NoGradGuard no_grad;
  const bool was_training = model.module().is_training();
  model.module().eval();
  const auto device = model.module().parameters().front().device();
  std::map<size_t, std::vector<float>> sub;  // per video of this rank: [n_sub, T] predictions
  for (size_t v : mine) sub[v].assign(data.videos()[v].n_sub * T, NAN);
  stream_batches(
      data, covering_batches(data, videos, mine, L, o.batch_size), mine, L, S, o,
      [&](const Batch& b) -> std::vector<torch::Tensor> {
        // Float inputs (spectrograms, features) to the model's device; face clips stay uint8 until the
        // model converts them there (core/data/visual_input.h).
        Batch on = b;
        if (on.audio.defined()) on.audio = on.audio.to(device);
        if (on.visual.defined() && on.visual.scalar_type() != torch::kUInt8) on.visual = on.visual.to(device);
        return {model.forward(on).cpu().contiguous()};
      },
      [&](const Batch& b, const std::vector<torch::Tensor>& out) {
        const float* pred = out[0].data_ptr<float>();
        for (size_t i = 0; i < b.refs.size(); ++i) {
          auto it = sub.find(b.refs[i].video);
          if (it == sub.end()) continue;  // another rank's video in a shared batch
          const int64_t n_sub = data.videos()[b.refs[i].video].n_sub;
          // Later sequences overwrite the sub-sequences they share with earlier ones (the last
          // covering sequence is aligned to the video's end).
          for (int64_t l = 0; l < L && b.refs[i].first_sub + l < n_sub; ++l)
            std::copy_n(pred + (i * L + l) * T, T, it->second.data() + (b.refs[i].first_sub + l) * T);
        }
      },
      result.times);
  Lap lap;
  std::vector<CccStats> local(T);
  for (size_t v : mine) {
    const auto& info = data.videos()[v];
    const auto& s = sub.at(v);
    VideoPrediction vp{v, std::vector<float>(info.n_frames * T)};
    const auto& labels = data.frame_labels(v);
    for (int64_t f = 0; f < info.n_frames; ++f) {
      const int64_t j = geometry::subsequence_of(f, info.n_sub, S);
      for (int64_t t = 0; t < T; ++t) {
        vp.frames[f * T + t] = s[j * T + t];
        local[t].add(s[j * T + t], labels[f * T + t]);
      }
    }
    result.predictions.push_back(std::move(vp));
  }
  if (was_training) model.module().train();
  result.stats = merge_across_ranks(local, comm);
  result.times.rest += lap();
  return result;
}

std::vector<VideoPrediction> gather_predictions(const std::vector<VideoPrediction>& local, const StageData& data,
                                                dist::Communicator& comm) {
  std::vector<float> flat;
  std::vector<int64_t> ids;
  for (const auto& p : local)
    ids.push_back(int64_t(p.video)), flat.insert(flat.end(), p.frames.begin(), p.frames.end());
  auto all_ids = comm.allgatherv(torch::tensor(ids, torch::kLong), "gather prediction ids");
  auto all_frames = comm.allgatherv(torch::from_blob(flat.data(), {int64_t(flat.size())}, torch::kFloat).clone(),
                                    "gather predictions");
  const int64_t T = data.targets().size();
  std::vector<VideoPrediction> out;
  for (int r = 0; r < comm.size(); ++r) {
    int64_t at = 0;
    for (int64_t k = 0; k < all_ids[r].numel(); ++k) {
      const size_t v = all_ids[r][k].item<int64_t>();
      const int64_t n = data.videos()[v].n_frames * T;
      const float* src = all_frames[r].data_ptr<float>() + at;
      out.push_back({v, std::vector<float>(src, src + n)});
      at += n;
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.video < b.video; });
  return out;
}

void write_prediction_csv(const std::string& path, const std::vector<float>& frames, const std::vector<float>& labels,
                          const std::vector<std::string>& targets, int64_t n_frames, double fps) {
  const size_t T = targets.size();
  std::ostringstream out;
  out << "frame,time";
  for (const auto& t : targets) out << "," << t << "," << t << "_label";
  out << "\n";
  for (int64_t f = 0; f < n_frames; ++f) {
    out << f << "," << fmt::format("{:.2f}", f / fps);
    for (size_t t = 0; t < T; ++t) out << "," << frames[f * T + t] << "," << labels[f * T + t];
    out << "\n";
  }
  write_file_atomic(path, out.str());
}

}  // namespace avf
