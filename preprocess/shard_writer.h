// Writes one shard (format v1, core/data/shard_format.h) as <name>.partial and renames it when complete,
// so a killed run never leaves a file that looks finished. Output is byte-for-byte reproducible
// (no timestamps), which is what lets a re-run be checked against an earlier one by sha256.
//
// Errors: writing the file can fail whatever the video (disk full, quota, I/O error), and HDF5 may
// report it only at a later write or at commit(), since it caches. Every HDF5 failure of the writer
// is therefore a ShardWriteError naming the file and the operating system's reason: the shard
// fails, not the video being written. After one, the writer is only good for destruction.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/h5.h"

namespace avf::pre {

struct Compression {
  int gzip_level = 0;  // 0 = none; gzip also enables the shuffle filter
  std::string to_string() const;
};
// "none" | "gzip" (level 4) | "gzip:N" with N in 1..9. Throws std::invalid_argument.
Compression parse_compression(const std::string& text);

struct VideoAttrs {
  std::string id, partition, source, source_sha256;
  double fps = 25;
  int64_t sample_rate = 16000;
  int64_t spectrogram_rows_per_frame = 1;  // the spectrogram has n_frames * this rows
};

struct ShardWriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ShardWriter {
 public:
  ShardWriter(std::string final_path, const std::string& params_json, const std::string& inputs_sha256,
              Compression compression);
  ~ShardWriter();  // without commit(), the .partial file is closed and removed

  // Faces stream in while a video decodes, so memory stays bounded by one chunk.
  void begin_video(const std::string& id, int face_size);
  void append_face(const uint8_t* rgb);  // face_size * face_size * 3 bytes
  // Writes the per-frame arrays and attributes; the number of faces appended is n_frames.
  void end_video(const VideoAttrs& attrs, const std::vector<uint8_t>& face_found, const std::vector<float>& face_box,
                 const std::vector<float>& spectrogram, int64_t freq_bins, const std::vector<float>& labels,
                 const std::vector<std::string>& label_names);
  // Drops a video that failed half-way (its bytes stay allocated in the file; the shard stays valid).
  void abort_video();
  int videos() const { return videos_; }
  // Records the videos that failed (JSON), closes and renames <name>.partial to <name>.
  void commit(const std::string& failed_json);

 private:
  void begin_video_(const std::string& id, int face_size);
  void write_video(const VideoAttrs& attrs, const std::vector<uint8_t>& face_found, const std::vector<float>& face_box,
                   const std::vector<float>& spectrogram, int64_t freq_bins, const std::vector<float>& labels,
                   const std::vector<std::string>& label_names);
  void flush_faces();
  h5::Handle create_dataset(hid_t group, const char* name, hid_t type, const std::vector<hsize_t>& dims,
                            uint64_t bytes_per_row, bool extendible);
  std::string path_, partial_;
  Compression compression_;
  h5::Handle file_, group_, faces_;
  std::string video_id_;
  int face_size_ = 0;
  uint64_t chunk_rows_ = 0, n_faces_ = 0;
  std::vector<uint8_t> pending_;
  int videos_ = 0;
  bool committed_ = false;
};

}  // namespace avf::pre
