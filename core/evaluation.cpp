#include "core/evaluation.h"

#include <sstream>

#include "dist/atomic_file.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "core/geometry.h"
#include "dist/sampler.h"

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
    const double row[6] = {n, n ? s.mean_x() : 0, n ? s.mean_y() : 0, n ? s.var_x() * n : 0, n ? s.var_y() * n : 0,
                           n ? s.cov() * n : 0};
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

Evaluation evaluate(StageModel& model, const StageData& data, const std::string& partition, int batch_size,
                    int64_t L, int64_t S, dist::Communicator& comm) {
  const auto videos = data.videos_in(partition);
  const int64_t T = data.targets().size();
  Evaluation result;
  std::vector<CccStats> local(T);
  torch::NoGradGuard no_grad;
  const bool was_training = model.module().is_training();
  model.module().eval();
  for (int64_t i : dist::shard_range(int64_t(videos.size()), comm.size(), comm.rank())) {
    const size_t v = videos[i];
    const auto& info = data.videos()[v];
    const auto sequences = data.covering_sequences(v, L);
    std::vector<float> sub(info.n_sub * T, NAN);
    for (size_t at = 0; at < sequences.size(); at += batch_size) {
      std::vector<SequenceRef> refs(sequences.begin() + at,
                                    sequences.begin() + std::min(sequences.size(), at + size_t(batch_size)));
      auto pred = model.forward(data.make_batch(refs, 0, false)).contiguous();
      for (size_t b = 0; b < refs.size(); ++b)
        for (int64_t l = 0; l < L && refs[b].first_sub + l < info.n_sub; ++l)
          std::copy_n(pred.data_ptr<float>() + (b * L + l) * T, T, sub.data() + (refs[b].first_sub + l) * T);
    }
    VideoPrediction vp{v, std::vector<float>(info.n_frames * T)};
    const auto& labels = data.frame_labels(v);
    for (int64_t f = 0; f < info.n_frames; ++f) {
      const int64_t j = geometry::subsequence_of(f, info.n_sub, S);
      for (int64_t t = 0; t < T; ++t) {
        vp.frames[f * T + t] = sub[j * T + t];
        local[t].add(sub[j * T + t], labels[f * T + t]);
      }
    }
    result.predictions.push_back(std::move(vp));
  }
  if (was_training) model.module().train();
  result.stats = merge_across_ranks(local, comm);
  return result;
}

std::vector<VideoPrediction> gather_predictions(const std::vector<VideoPrediction>& local, const StageData& data,
                                                dist::Communicator& comm) {
  std::vector<float> flat;
  std::vector<int64_t> ids;
  for (const auto& p : local) ids.push_back(int64_t(p.video)), flat.insert(flat.end(), p.frames.begin(), p.frames.end());
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
  dist::write_file_atomic(path, out.str());
}

}  // namespace avf
