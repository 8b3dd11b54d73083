#include "preprocess/shard_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/data/shard_format.h"

namespace avf::pre {

using h5::check;
using h5::Handle;

namespace {
// Runs one step of writing the file: whatever HDF5 reports there is the file's problem.
template <class Step>
void writing(Step&& step) {
  try {
    step();
  } catch (const ShardWriteError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw ShardWriteError(e.what());
  }
}
}  // namespace

std::string Compression::to_string() const { return gzip_level == 0 ? "none" : fmt::format("gzip:{}", gzip_level); }

Compression parse_compression(const std::string& text) {
  if (text == "none") return {0};
  if (text == "gzip") return {4};
  if (text.rfind("gzip:", 0) == 0 && text.size() == 6 && text[5] >= '1' && text[5] <= '9') return {text[5] - '0'};
  throw std::invalid_argument(fmt::format("--compression '{}': expected none, gzip or gzip:1..9", text));
}

ShardWriter::ShardWriter(std::string final_path, const std::string& params_json, const std::string& inputs_sha256,
                         Compression compression)
    : path_(std::move(final_path)), partial_(path_ + shard::kPartialSuffix), compression_(compression) {
  writing([&] {
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_file_locking(fapl, false, true);
    file_ =
        check(H5Fcreate(partial_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), partial_, "cannot create the shard file");
    h5::write_attr(file_, shard::kAttrFormat, std::string(shard::kFormat));
    h5::write_attr(file_, shard::kAttrVersion, int64_t{shard::kVersion});
    h5::write_attr(file_, shard::kAttrParams, params_json);
    h5::write_attr(file_, shard::kAttrInputsSha256, inputs_sha256);
  });
}

ShardWriter::~ShardWriter() {
  if (committed_) return;
  faces_.reset();
  group_.reset();
  file_.reset();
  std::remove(partial_.c_str());
}

Handle ShardWriter::create_dataset(hid_t group, const char* name, hid_t type, const std::vector<hsize_t>& dims,
                                   uint64_t bytes_per_row, bool extendible) {
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_obj_track_times(dcpl, false);  // timestamps would make identical shards differ
  std::vector<hsize_t> chunk = dims;
  chunk[0] = shard::rows_per_chunk(bytes_per_row, extendible ? 0 : dims[0]);
  H5Pset_chunk(dcpl, int(chunk.size()), chunk.data());
  if (compression_.gzip_level > 0) {
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, compression_.gzip_level);
  }
  std::vector<hsize_t> max_dims = dims;
  if (extendible) max_dims[0] = H5S_UNLIMITED;
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), max_dims.data()));
  // No chunk cache: every chunk is written whole and once, so a cache saves nothing, and it would
  // hold a write error (disk full) back until the dataset is closed, where HDF5 1.10 cannot report
  // it and leaves the dataset half closed. Without it the H5Dwrite that failed reports it.
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(dapl, 0, 0, 1.0);
  return check(H5Dcreate2(group, name, type, space, H5P_DEFAULT, dcpl, dapl), partial_,
               fmt::format("cannot create dataset {}/{}", video_id_, name));
}

void ShardWriter::begin_video(const std::string& id, int face_size) {
  writing([&] { begin_video_(id, face_size); });
}

void ShardWriter::begin_video_(const std::string& id, int face_size) {
  video_id_ = id;
  face_size_ = face_size;
  n_faces_ = 0;
  pending_.clear();
  Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_obj_track_times(gcpl, false);
  group_ = check(H5Gcreate2(file_, id.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), partial_,
                 fmt::format("cannot create group '{}'", id));
  const uint64_t row = uint64_t(face_size) * face_size * 3;
  chunk_rows_ = shard::rows_per_chunk(row, 0);
  faces_ = create_dataset(group_, shard::kFaces, H5T_NATIVE_UINT8, {0, hsize_t(face_size), hsize_t(face_size), 3}, row,
                          true);
}

void ShardWriter::append_face(const uint8_t* rgb) {
  const size_t row = size_t(face_size_) * face_size_ * 3;
  pending_.insert(pending_.end(), rgb, rgb + row);
  if (pending_.size() >= chunk_rows_ * row) writing([&] { flush_faces(); });
}

// Appends whole chunks so every chunk is written once.
void ShardWriter::flush_faces() {
  const hsize_t row = hsize_t(face_size_) * face_size_ * 3;
  const hsize_t n = pending_.size() / row;
  if (n == 0) return;
  const hsize_t fs = face_size_;
  const hsize_t new_dims[4] = {n_faces_ + n, fs, fs, 3};
  check(H5Dset_extent(faces_, new_dims), partial_, fmt::format("cannot extend {}/faces", video_id_));
  Handle file_space(H5Dget_space(faces_));
  const hsize_t start[4] = {n_faces_, 0, 0, 0}, count[4] = {n, fs, fs, 3};
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  Handle mem_space(H5Screate_simple(4, count, nullptr));
  check(H5Dwrite(faces_, H5T_NATIVE_UINT8, mem_space, file_space, H5P_DEFAULT, pending_.data()), partial_,
        fmt::format("cannot write {}/faces", video_id_));
  n_faces_ += n;
  pending_.clear();
}

void ShardWriter::end_video(const VideoAttrs& a, const std::vector<uint8_t>& face_found,
                            const std::vector<float>& face_box, const std::vector<float>& spectrogram,
                            int64_t freq_bins, const std::vector<float>& labels,
                            const std::vector<std::string>& label_names) {
  writing([&] { flush_faces(); });
  const hsize_t n = n_faces_, t = label_names.size();
  const hsize_t spectrogram_rows = n * hsize_t(a.spectrogram_rows_per_frame);
  if (face_found.size() != n || face_box.size() != n * 4 || spectrogram.size() != spectrogram_rows * freq_bins ||
      labels.size() != n * t)
    throw std::logic_error(fmt::format("{}: per-frame arrays disagree on the number of frames ({})", a.id, n));
  writing([&] { write_video(a, face_found, face_box, spectrogram, freq_bins, labels, label_names); });
  ++videos_;
}

void ShardWriter::write_video(const VideoAttrs& a, const std::vector<uint8_t>& face_found,
                              const std::vector<float>& face_box, const std::vector<float>& spectrogram,
                              int64_t freq_bins, const std::vector<float>& labels,
                              const std::vector<std::string>& label_names) {
  const hsize_t n = n_faces_, t = label_names.size();
  auto write = [&](const char* name, hid_t type, std::vector<hsize_t> dims, uint64_t row_bytes, const void* data) {
    Handle d = create_dataset(group_, name, type, dims, row_bytes, false);
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), partial_,
          fmt::format("cannot write {}/{}", a.id, name));
    return d;
  };
  write(shard::kFaceFound, H5T_NATIVE_UINT8, {n}, 1, face_found.data());
  write(shard::kFaceBox, H5T_NATIVE_FLOAT, {n, 4}, 16, face_box.data());
  write(shard::kSpectrogram, H5T_NATIVE_FLOAT, {n * hsize_t(a.spectrogram_rows_per_frame), hsize_t(freq_bins)},
        4 * freq_bins, spectrogram.data());
  Handle l = write(shard::kLabels, H5T_NATIVE_FLOAT, {n, t}, 4 * t, labels.data());
  h5::write_attr(l, shard::kAttrLabelNames, label_names);
  h5::write_attr(group_, shard::kAttrPartition, a.partition);
  h5::write_attr(group_, shard::kAttrFps, a.fps);
  h5::write_attr(group_, shard::kAttrNFrames, int64_t(n));
  h5::write_attr(group_, shard::kAttrSampleRate, a.sample_rate);
  h5::write_attr(group_, shard::kAttrSource, a.source);
  h5::write_attr(group_, shard::kAttrSourceSha256, a.source_sha256);
  // Only where it is not the one row per frame that older readers assume.
  if (a.spectrogram_rows_per_frame != 1)
    h5::write_attr(group_, shard::kAttrSpectrogramRows, int64_t(a.spectrogram_rows_per_frame));
  faces_.reset();
  group_.reset();
}

void ShardWriter::abort_video() {
  faces_.reset();
  group_.reset();
  pending_.clear();
  if (!video_id_.empty() && H5Lexists(file_, video_id_.c_str(), H5P_DEFAULT) > 0)
    H5Ldelete(file_, video_id_.c_str(), H5P_DEFAULT);
}

void ShardWriter::commit(const std::string& failed_json) {
  writing([&] {
    h5::write_attr(file_, shard::kAttrFailed, failed_json);
    // HDF5 caches: a full disk often shows only here.
    check(H5Fflush(file_, H5F_SCOPE_GLOBAL), partial_, "cannot write the shard file");
    check(H5Fclose(file_.release()), partial_, "cannot close the shard file");
  });
  if (std::rename(partial_.c_str(), path_.c_str()) != 0)
    throw ShardWriteError(fmt::format("{}: cannot rename to {}: {}", partial_, path_, std::strerror(errno)));
  committed_ = true;
}

}  // namespace avf::pre
