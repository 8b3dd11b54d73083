#include "core/data/shard_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "core/base/h5.h"
#include "core/data/rgb_rows.h"
#include "core/data/shard_format.h"

namespace avf {
namespace {

constexpr int64_t kMaxFrames = int64_t(1) << 31;  // refuse absurd sizes before allocating
constexpr int kMaxSide = 4096;
std::atomic<uint64_t> next_reader_id{1};

// The chunk a thread fetched last (stored bytes and, for gzip, inflated ones).
struct ChunkCache {
  uint64_t reader = 0;  // 0: nothing cached
  size_t video = 0;
  hsize_t start = 0;
  std::vector<uint8_t> raw, plain;
  const std::vector<uint8_t>* data = nullptr;  // raw or plain
};

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", where, what));
}

nlohmann::json read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) bad(path, "cannot open the dataset manifest (is this the output directory of `avf preprocess`?)");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad(path, "not valid JSON");
  if (j.value("format", "") != shard::kFormat) bad(path, fmt::format("field 'format' must be '{}'", shard::kFormat));
  if (j.value("version", 0) != shard::kVersion)
    bad(path,
        fmt::format("field 'version' is {} but this avf reads version {}", j.value("version", 0), shard::kVersion));
  for (const char* field : {"shards", "videos", "targets"})
    if (!j.contains(field) || !j[field].is_array()) bad(path, fmt::format("field '{}' must be an array", field));
  return j;
}

// Reads a whole small dataset of `expected` dims and native type into `out`, after checking its shape.
template <class T>
void read_small(hid_t group, const char* name, hid_t mem_type, H5T_class_t cls, size_t elem,
                const std::vector<hsize_t>& expected, std::vector<T>& out, const std::string& where) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) bad(where, fmt::format("dataset '{}' is missing", name));
  h5::Handle d(H5Dopen2(group, name, H5P_DEFAULT));
  h5::Handle type(H5Dget_type(d));
  if (H5Tget_class(type) != cls || H5Tget_size(type) != elem)
    bad(where, fmt::format("dataset '{}' has the wrong type (expected {}-byte {})", name, elem,
                           cls == H5T_FLOAT ? "float" : "unsigned integer"));
  const auto dims = h5::dataset_shape(d);
  if (dims != expected) {
    std::string want, got;
    for (auto v : expected) want += fmt::format("{}x", v);
    for (auto v : dims) got += fmt::format("{}x", v);
    bad(where, fmt::format("dataset '{}' has shape {} but {} was expected", name, got.substr(0, got.size() - 1),
                           want.substr(0, want.size() - 1)));
  }
  size_t n = 1;
  for (auto v : dims) n *= v;
  out.resize(n);
  h5::check(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), where,
            fmt::format("cannot read '{}'", name));
}

}  // namespace

struct ShardReader::FaceStore {
  h5::Handle file;  // shared per shard in practice, but a handle per video keeps lifetimes simple
  h5::Handle dataset;
  hsize_t chunk_rows = 0;
  int deflate_index = -1;  // position of gzip in the filter pipeline, -1 when uncompressed
  std::string where;
};

ShardReader::~ShardReader() = default;

ShardReader::ShardReader(const std::string& dir) : id_(next_reader_id++), dir_(dir) {
  const std::string manifest_path = (std::filesystem::path(dir) / shard::kManifestFile).string();
  const auto manifest = read_manifest(manifest_path);
  targets_ = manifest["targets"].get<std::vector<std::string>>();
  params_ = manifest.value("params", nlohmann::json::object());
  fps_ = params_.value("fps", 25.0);
  const auto shard_files = manifest["shards"];
  std::vector<h5::Handle> files;
  for (const auto& s : shard_files) {
    const std::string path = (std::filesystem::path(dir) / s.value("file", "")).string();
    auto file = h5::open_read_only(path);
    if (h5::read_string_attr(file, shard::kAttrFormat) != shard::kFormat)
      bad(path, fmt::format("attribute 'format' is not '{}'", shard::kFormat));
    if (h5::read_int_attr(file, shard::kAttrVersion) != shard::kVersion)
      bad(path, fmt::format("attribute 'version' is not {}", shard::kVersion));
    files.push_back(std::move(file));
  }
  const hsize_t T = targets_.size();
  for (const auto& v : manifest["videos"]) {
    VideoData video;
    video.id = v.value("id", "");
    video.partition = v.value("partition", "");
    video.n_frames = v.value("n_frames", int64_t(0));
    const std::string shard_file = v.value("shard", "");
    auto it = std::find_if(shard_files.begin(), shard_files.end(),
                           [&](const nlohmann::json& s) { return s.value("file", "") == shard_file; });
    if (it == shard_files.end())
      bad(manifest_path, fmt::format("video '{}' names shard '{}' that is not listed", video.id, shard_file));
    video.shard = int(it - shard_files.begin());
    const std::string where = fmt::format("{}/{}:/{}", dir, shard_file, video.id);
    if (video.n_frames <= 0 || video.n_frames > kMaxFrames)
      bad(where, fmt::format("n_frames {} is out of range", video.n_frames));
    hid_t file = files[video.shard].get();
    if (H5Lexists(file, video.id.c_str(), H5P_DEFAULT) <= 0) bad(where, "video group is missing");
    h5::Handle group(H5Gopen2(file, video.id.c_str(), H5P_DEFAULT));
    const hsize_t N = hsize_t(video.n_frames);

    h5::Handle faces = h5::check(H5Dopen2(group, shard::kFaces, H5P_DEFAULT), where, "dataset 'faces' is missing");
    const auto fdims = h5::dataset_shape(faces);
    if (fdims.size() != 4 || fdims[0] != N || fdims[3] != 3 || fdims[1] == 0 || fdims[1] > kMaxSide || fdims[2] == 0 ||
        fdims[2] > kMaxSide)
      bad(where, fmt::format("dataset 'faces' must be [{}, H, W, 3] with 0 < H, W <= {}", N, kMaxSide));
    if (face_h_ == 0) face_h_ = int(fdims[1]), face_w_ = int(fdims[2]);
    if (int(fdims[1]) != face_h_ || int(fdims[2]) != face_w_)
      bad(where, fmt::format("faces are {}x{} but earlier videos have {}x{}", fdims[1], fdims[2], face_h_, face_w_));
    h5::Handle ftype(H5Dget_type(faces));
    if (H5Tget_class(ftype) != H5T_INTEGER || H5Tget_size(ftype) != 1) bad(where, "dataset 'faces' must be uint8");

    h5::Handle spec =
        h5::check(H5Dopen2(group, shard::kSpectrogram, H5P_DEFAULT), where, "dataset 'spectrogram' is missing");
    const auto sdims = h5::dataset_shape(spec);
    // Several rows per frame with the authors' mel front-end (10 ms hop); one in older shards.
    const int64_t rows =
        h5::has_attr(group, shard::kAttrSpectrogramRows) ? h5::read_int_attr(group, shard::kAttrSpectrogramRows) : 1;
    if (rows < 1 || rows > 64)
      bad(where, fmt::format("attribute '{}' is {}, expected 1..64", shard::kAttrSpectrogramRows, rows));
    if (rows_per_frame_ == 0) rows_per_frame_ = int(rows);
    if (rows != rows_per_frame_)
      bad(where, fmt::format("spectrogram has {} rows per frame, earlier videos {}", rows, rows_per_frame_));
    const hsize_t R = N * hsize_t(rows);
    if (sdims.size() != 2 || sdims[0] != R || sdims[1] == 0 || sdims[1] > 8192)
      bad(where, fmt::format("dataset 'spectrogram' must be [{}, F] ({} frames x {} rows)", R, N, rows));
    if (freq_bins_ == 0) freq_bins_ = int(sdims[1]);
    if (int(sdims[1]) != freq_bins_)
      bad(where, fmt::format("spectrogram has {} bins, earlier videos {}", sdims[1], freq_bins_));

    read_small(group, shard::kSpectrogram, H5T_NATIVE_FLOAT, H5T_FLOAT, 4, {R, hsize_t(freq_bins_)}, video.spectrogram,
               where);
    read_small(group, shard::kLabels, H5T_NATIVE_FLOAT, H5T_FLOAT, 4, {N, T}, video.labels, where);
    read_small(group, shard::kFaceFound, H5T_NATIVE_UINT8, H5T_INTEGER, 1, {N}, video.face_found, where);
    {
      h5::Handle labels(H5Dopen2(group, shard::kLabels, H5P_DEFAULT));
      if (h5::read_strings_attr(labels, shard::kAttrLabelNames) != targets_)
        bad(where, "the label names differ from the manifest's targets");
    }

    auto store = std::make_unique<FaceStore>();
    store->where = where + "/faces";
    h5::Handle dcpl(H5Dget_create_plist(faces));
    if (H5Pget_layout(dcpl) != H5D_CHUNKED) bad(store->where, "must be chunked");
    hsize_t chunk[4];
    H5Pget_chunk(dcpl, 4, chunk);
    if (chunk[1] != fdims[1] || chunk[2] != fdims[2] || chunk[3] != 3)
      bad(store->where, "chunks must hold whole frames");
    store->chunk_rows = chunk[0];
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
      unsigned flags = 0, cd[8];
      size_t nelmts = 8;
      const H5Z_filter_t f = H5Pget_filter2(dcpl, i, &flags, &nelmts, cd, 0, nullptr, nullptr);
      // Byte shuffle leaves 1-byte elements as they are, so only gzip needs undoing.
      if (f == H5Z_FILTER_DEFLATE)
        store->deflate_index = i;
      else if (f != H5Z_FILTER_SHUFFLE)
        bad(store->where, fmt::format("uses HDF5 filter {} (avf reads none, gzip and shuffle)", int(f)));
    }
    store->file = h5::open_read_only(fmt::format("{}/{}", dir, shard_file));
    store->dataset = h5::Handle(H5Dopen2(store->file, (video.id + "/" + shard::kFaces).c_str(), H5P_DEFAULT));
    faces_.push_back(std::move(store));
    videos_.push_back(std::move(video));
  }
  if (videos_.empty()) bad(manifest_path, "lists no videos");
}

std::vector<size_t> ShardReader::videos_in(const std::string& partition) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < videos_.size(); ++i)
    if (videos_[i].partition == partition) out.push_back(i);
  return out;
}

void ShardReader::for_each_chunk(size_t video, int64_t start, int64_t count,
                                 const std::function<void(int64_t, int64_t, const uint8_t*)>& take) const {
  const FaceStore& s = *faces_.at(video);
  const int64_t n = videos_[video].n_frames;
  if (start < 0 || count < 0 || start + count > n)
    throw std::out_of_range(fmt::format("{}: rows [{}, {}) outside [0, {})", s.where, start, start + count, n));
  const size_t row_bytes = size_t(face_h_) * face_w_ * 3;
  // Per thread, so the buffers are allocated once per loader thread, not once per clip.
  thread_local ChunkCache cache;
  for (int64_t row = start; row < start + count;) {
    const hsize_t chunk_start = hsize_t(row) / s.chunk_rows * s.chunk_rows;
    // Chunks at the end of the dataset are stored full size; rows past n_frames are padding.
    const size_t chunk_bytes = size_t(s.chunk_rows) * row_bytes;
    if (cache.reader != id_ || cache.video != video || cache.start != chunk_start) {
      cache.reader = 0;  // until the chunk is complete: a throw below leaves nothing half-cached
      const hsize_t offset[4] = {chunk_start, 0, 0, 0};
      uint32_t filter_mask = 0;
      {
        std::lock_guard<std::mutex> lock(hdf5_mutex_);  // the only HDF5 work: fetch the stored bytes
        hsize_t stored = 0;
        h5::check(H5Dget_chunk_storage_size(s.dataset, offset, &stored), s.where, "cannot locate a chunk");
        cache.raw.resize(stored);
        h5::check(H5Dread_chunk(s.dataset, H5P_DEFAULT, offset, &filter_mask, cache.raw.data()), s.where,
                  "cannot read a chunk");
      }
      cache.data = &cache.raw;
      // A set bit in filter_mask means that filter was skipped for this chunk.
      if (s.deflate_index >= 0 && !(filter_mask & (1u << s.deflate_index))) {
        cache.plain.resize(chunk_bytes);
        uLongf len = chunk_bytes;
        if (uncompress(cache.plain.data(), &len, cache.raw.data(), cache.raw.size()) != Z_OK || len != chunk_bytes)
          bad(s.where, fmt::format("chunk at row {} is corrupt (gzip)", chunk_start));
        cache.data = &cache.plain;
      }
      if (cache.data->size() < chunk_bytes) bad(s.where, fmt::format("chunk at row {} is truncated", chunk_start));
      cache.reader = id_, cache.video = video, cache.start = chunk_start;
    }
    const std::vector<uint8_t>* data = cache.data;
    const int64_t chunk_end = int64_t(chunk_start + s.chunk_rows);
    const int64_t rows = std::min(chunk_end, start + count) - row;
    take(row, rows, data->data() + (row - int64_t(chunk_start)) * row_bytes);
    row += rows;
  }
}

void ShardReader::read_faces(size_t video, int64_t start, int64_t count, uint8_t* out) const {
  const size_t row_bytes = size_t(face_h_) * face_w_ * 3;
  for_each_chunk(video, start, count, [&](int64_t row, int64_t rows, const uint8_t* src) {
    std::memcpy(out + (row - start) * row_bytes, src, rows * row_bytes);
  });
}

void ShardReader::read_face_crops(size_t video, int64_t start, int64_t count, int64_t y0, int64_t x0, int64_t side,
                                  bool flip, uint8_t* out) const {
  if (y0 < 0 || x0 < 0 || side <= 0 || y0 + side > face_h_ || x0 + side > face_w_)
    throw std::out_of_range(
        fmt::format("{}: crop {}x{} at ({}, {}) outside the {}x{} faces", dir_, side, side, y0, x0, face_h_, face_w_));
  const size_t row_bytes = size_t(face_h_) * face_w_ * 3, line = size_t(side) * 3;
  for_each_chunk(video, start, count, [&](int64_t row, int64_t rows, const uint8_t* src) {
    for (int64_t f = 0; f < rows; ++f) {
      const uint8_t* frame = src + f * row_bytes;
      uint8_t* dst = out + (row - start + f) * side * line;
      for (int64_t y = 0; y < side; ++y, dst += line) {
        const uint8_t* from = frame + ((y0 + y) * face_w_ + x0) * 3;
        if (!flip)
          std::memcpy(dst, from, line);
        else
          copy_rgb_mirrored(from, dst, side);
      }
    }
  });
}

}  // namespace avf
