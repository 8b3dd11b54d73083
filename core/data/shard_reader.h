// Reads a preprocessed dataset (manifest.json + shard-*.h5) for training and evaluation.
//
// Everything is validated when the dataset is opened (format, version, dtypes, shapes against the
// manifest and against each other), so a damaged or foreign file is refused with a message naming
// the file and the field, never a crash or a huge allocation later. Spectrograms, labels and face
// flags are small and kept in memory. Faces are read on demand: Debian's libhdf5 serialises every
// call behind one global lock, so the reader fetches raw chunks (H5Dread_chunk, the only part under
// the lock) and inflates them in the calling thread, letting several loader threads decompress in
// parallel. Each thread keeps the last chunk it fetched: streaming a video (evaluation, extraction)
// reads consecutive clips, and with small faces one chunk holds many clips (256 rows of 32 px faces
// = 16 clips of 16 frames), which would otherwise be fetched and inflated once per clip.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace avf {

struct VideoData {
  std::string id, partition;
  int shard = 0;
  int64_t n_frames = 0;
  std::vector<float> spectrogram;   // [n_frames * spectrogram_rows_per_frame(), freq_bins]
  std::vector<float> labels;        // [n_frames, targets]; NaN = missing
  std::vector<uint8_t> face_found;  // [n_frames]
};

class ShardReader {
 public:
  explicit ShardReader(const std::string& dir);
  ~ShardReader();

  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& targets() const { return targets_; }
  const nlohmann::json& params() const { return params_; }
  int face_height() const { return face_h_; }
  int face_width() const { return face_w_; }
  int freq_bins() const { return freq_bins_; }
  // Spectrogram rows per video frame: 1 for the paper's front-end, 4 for the authors' (10 ms hop at 25 fps).
  int spectrogram_rows_per_frame() const { return rows_per_frame_; }
  double fps() const { return fps_; }
  const std::vector<VideoData>& videos() const { return videos_; }
  std::vector<size_t> videos_in(const std::string& partition) const;

  // Copies face rows [start, start + count) of `video` (RGB, face_height x face_width) into `out`.
  // Thread-safe; only the raw chunk fetch holds the HDF5 lock.
  void read_faces(size_t video, int64_t start, int64_t count, uint8_t* out) const;
  // The same rows cropped to side x side at (y0, x0), mirrored left-right when `flip`, copied row by
  // row from the chunk (no full-frame copy) into `out` as [count, side, side, 3].
  void read_face_crops(size_t video, int64_t start, int64_t count, int64_t y0, int64_t x0, int64_t side, bool flip,
                       uint8_t* out) const;

 private:
  struct FaceStore;  // open dataset + chunk geometry + filters of one video
  // Calls take(first row, rows, their bytes) for each stored chunk overlapping [start, start + count),
  // in order: the raw chunk fetched under the HDF5 lock, inflated (gzip) in the calling thread.
  void for_each_chunk(size_t video, int64_t start, int64_t count,
                      const std::function<void(int64_t, int64_t, const uint8_t*)>& take) const;
  uint64_t id_;  // unique per reader, so a thread's cached chunk is never taken for another reader's
  std::string dir_;
  std::vector<std::string> targets_;
  nlohmann::json params_;
  int face_h_ = 0, face_w_ = 0, freq_bins_ = 0, rows_per_frame_ = 0;
  double fps_ = 0;
  std::vector<VideoData> videos_;
  std::vector<std::unique_ptr<FaceStore>> faces_;
  mutable std::mutex hdf5_mutex_;
};

}  // namespace avf
