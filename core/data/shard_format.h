// Shard format v1: the names shared by the writer (avf preprocess) and every reader (training,
// avf inspect, h5py users). Header-only and dependency-free so anything may include it.
//
// shard-00000.h5
//   attrs  format="avf-shard", version=1, params=<JSON of every preprocessing knob>,
//          inputs_sha256=<hash of params + the inputs of its videos: re-runs skip equal shards>,
//          failed=<JSON list of {id, reason} for videos planned here that failed>
//   /<video_id>/  attrs partition, fps, n_frames, sample_rate, source, source_sha256
//     faces        uint8   [N,H,W,3]  RGB crops, chunked [k,H,W,3] with k*H*W*3 about 1 MiB
//     face_found   uint8   [N]        0 where no face was found
//     face_box     float32 [N,4]      x, y, w, h of the crop in source pixels (zeros before any face)
//     spectrogram  float32 [N*r,F]    log spectrogram, not normalised: rows i*r .. i*r+r-1 = audio of frame i
//                                     (r = attr spectrogram_rows_per_frame, absent = 1; the paper's
//                                     front-end has r = 1, the authors' mel front-end r = 4 at 25 fps)
//     labels       float32 [N,T]      attr names = target names in column order; NaN = missing
// manifest.json  written last: format, version, params, targets, shards, videos, failed
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace avf::shard {

inline constexpr const char* kFormat = "avf-shard";
inline constexpr int kVersion = 1;

// File attributes.
inline constexpr const char* kAttrFormat = "format";
inline constexpr const char* kAttrVersion = "version";
inline constexpr const char* kAttrParams = "params";
inline constexpr const char* kAttrInputsSha256 = "inputs_sha256";
inline constexpr const char* kAttrFailed = "failed";  // JSON [{"id", "reason"}] of videos left out

// Video group attributes.
inline constexpr const char* kAttrPartition = "partition";
inline constexpr const char* kAttrFps = "fps";
inline constexpr const char* kAttrNFrames = "n_frames";
inline constexpr const char* kAttrSampleRate = "sample_rate";
inline constexpr const char* kAttrSource = "source";
inline constexpr const char* kAttrSourceSha256 = "source_sha256";
inline constexpr const char* kAttrSpectrogramRows = "spectrogram_rows_per_frame";  // absent = 1

// Datasets inside a video group.
inline constexpr const char* kFaces = "faces";
inline constexpr const char* kFaceFound = "face_found";
inline constexpr const char* kFaceBox = "face_box";
inline constexpr const char* kSpectrogram = "spectrogram";
inline constexpr const char* kLabels = "labels";
inline constexpr const char* kAttrLabelNames = "names";  // on the labels dataset

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kPartialSuffix = ".partial";  // a shard being written; never read

// "shard-00007.h5"
inline std::string shard_file_name(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%05d.h5", index);
  return name;
}

// Rows per chunk of a per-frame dataset: the largest power of two whose chunk stays within about
// 1 MiB (8 frames of 224x224 RGB), at most the number of rows. One training sample then reads
// whole chunks and shuffled access does not thrash the chunk cache.
inline uint64_t rows_per_chunk(uint64_t bytes_per_row, uint64_t n_rows) {
  constexpr uint64_t kTarget = (1u << 20) + (1u << 18);  // 1.25 MiB: admits 8 x 224^2 x 3
  uint64_t rows = 1;
  while (rows * 2 * bytes_per_row <= kTarget) rows *= 2;
  return n_rows > 0 && rows > n_rows ? n_rows : rows;
}

}  // namespace avf::shard
