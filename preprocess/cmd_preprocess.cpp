// `avf preprocess`: videos, audio and labels -> shards/*.h5 + manifest.json. MPI ranks split the
// shards (one rank without mpirun); rank 0 gathers what every rank wrote and writes the manifest last
// (preprocess/dataset_manifest.h).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>
#include <set>
#include <thread>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/files.h"
#include "core/base/log.h"
#include "core/base/progress.h"
#include "core/base/subcommand.h"
#include "core/data/shard_format.h"
#include "dist/host_collectives.h"
#include "dist/process_group.h"
#include "dist/watchdog.h"
#include "preprocess/dataset_manifest.h"
#include "preprocess/inputs.h"
#include "preprocess/mel_frontend.h"
#include "preprocess/plan.h"
#include "preprocess/process_video.h"
#include "preprocess/shard_summary.h"
#include "preprocess/shard_writer.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;

namespace avf {
namespace {

struct Options {
  pre::Params params;
  std::string input, output, progress, timings;
  uint64_t shard_size = 0;
  double timeout = 600;  // dist.timeout: how long a rank waits for the others (dist/watchdog.h)
  bool force = false, allow_failures = false;
};

// "0.2" rather than the 17 digits Boost would show for a double default.
std::string shortest(double v) { return fmt::format("{}", v); }

CommandSpec make_spec(pre::Params& p, std::string& shard_size, std::string& compression, Options& o) {
  CommandSpec spec{"preprocess",
                   "Decode videos, audio and labels into face crops, log-spectrograms and labels in sharded HDF5.",
                   "avf preprocess --layout avec2016|manifest|faces|affwild2 --input DIR --output DIR [options]\n"
                   "       mpirun -np N avf preprocess ...   (ranks split the videos)"};
  spec.options.add_options()("layout", po::value(&p.layout)->value_name("L")->default_value(p.layout),
                             "input layout: avec2016 | manifest | faces | affwild2")(
      "input", po::value(&o.input)->value_name("DIR"), "input folder (manifest layout: the CSV or its folder)")(
      "output", po::value(&o.output)->value_name("DIR"), "output folder for shard-*.h5 and manifest.json")(
      "fps", po::value(&p.fps)->value_name("F")->default_value(p.fps, shortest(p.fps)),
      "frame rate of the output (the label grid)")(
      "face-size", po::value(&p.face_size)->value_name("PX")->default_value(p.face_size),
      "side of the square face crops")(
      "freq-bins", po::value(&p.freq_bins)->value_name("K")->default_value(p.freq_bins),
      "spectrogram bins kept: 0..K-1 of the 1024-point DFT at 16 kHz (129 = 0..2000 Hz); paper front-end only")(
      "audio-frontend", po::value(&p.audio_frontend)->value_name("F")->default_value(p.audio_frontend),
      "paper (40 ms log-power DFT rows, one per frame) | authors (their code: 128 log2 mel bands, 25 ms window, "
      "10 ms hop, 4 rows per frame at 25 fps)")("shard-size",
                                                po::value(&shard_size)->value_name("SIZE")->default_value("2GiB"),
                                                "largest shard before compression")(
      "compression", po::value(&compression)->value_name("C")->default_value("none"),
      "none | gzip | gzip:1..9 (with shuffle)")(
      "face-detector", po::value(&p.face_detector)->value_name("D")->default_value(p.face_detector),
      "haar | lbp (opencv-data cascades) | FILE.xml (a cascade) | FILE.onnx (YuNet model for cv::FaceDetectorYN)")(
      "detect-width", po::value(&p.detect_width)->value_name("PX")->default_value(p.detect_width),
      "scale wider frames down to this width for detection (0 = full size)")(
      "min-face", po::value(&p.min_face)->value_name("F")->default_value(p.min_face, shortest(p.min_face)),
      "smallest face a cascade searches, as a fraction of the frame's shorter side")(
      "equalize", po::bool_switch(&p.equalize),
      "histogram-equalise the grey frame before a cascade (off: it loses faces in contrasty footage)")(
      "face-neighbours", po::value(&p.face_neighbours)->value_name("N")->default_value(p.face_neighbours),
      "overlapping cascade hits a face needs (minNeighbors; more: fewer false faces, small faces lost)")(
      "full-search-every", po::value(&p.full_search_every)->value_name("N")->default_value(p.full_search_every),
      "while a face is followed, search the whole frame every N frames (0 = only when it is lost)")(
      "face-margin", po::value(&p.face_margin)->value_name("M")->default_value(p.face_margin, shortest(p.face_margin)),
      "crop margin around the box, per side, as a fraction of its side")(
      "box-smoothing",
      po::value(&p.box_smoothing)->value_name("A")->default_value(p.box_smoothing, shortest(p.box_smoothing)),
      "weight of the previous box (0 = none, <1)")(
      "length-tolerance",
      po::value(&p.length_tolerance)->value_name("S")->default_value(p.length_tolerance, shortest(p.length_tolerance)),
      "seconds by which audio and labels may differ from the video")(
      "max-bad-fraction",
      po::value(&p.max_bad_fraction)->value_name("F")->default_value(p.max_bad_fraction, shortest(p.max_bad_fraction)),
      "fraction (0..1) of a stream's packets that may fail to decode: they are skipped (audio: silence, video: the "
      "frame before) with a warning; more fail the video")(
      "time-column", po::value(&p.time_column)->value_name("NAME")->default_value(p.time_column),
      "time column of label CSV files")(
      "face-source", po::value(&p.face_source)->value_name("S")->default_value(p.face_source),
      "affwild2 layout: auto (the organisers' cropped_aligned/<video>/ faces where that folder has images, else "
      "detected) | cropped-aligned (always; a video without them fails) | detect (always detected in the video)")(
      "force", po::bool_switch(&o.force), "redo every shard, even unchanged ones")(
      "allow-failures", po::bool_switch(&o.allow_failures), "exit 0 even when some videos failed")(
      "progress", po::value(&o.progress)->value_name("MODE")->default_value("auto"), "auto | bar | lines | off")(
      "dist.timeout", po::value(&o.timeout)->value_name("S")->default_value(o.timeout, shortest(o.timeout)),
      "seconds a rank waits for the others (start-up, gathering the results) before the job aborts (exit 4); "
      "the ranks' shares must finish within this of each other")(
      "timings", po::value(&o.timings)->value_name("FILE"),
      "write per rank the seconds and frames/s of each stage (decode, detect, crop, spectrogram, write) as JSON");
  return spec;
}

// Whether `inner` is `outer` or lies under it, once "..", "." and symbolic links are resolved.
bool is_within(const std::string& inner, const std::string& outer) {
  std::error_code ec;
  const fs::path in = fs::weakly_canonical(fs::absolute(inner), ec),
                 out = fs::weakly_canonical(fs::absolute(outer), ec);
  if (ec) return false;
  return std::mismatch(out.begin(), out.end(), in.begin(), in.end()).first == out.end();
}

void validate(const Options& o) {
  const auto& p = o.params;
  auto bad = [](const std::string& what) { return ConfigError("command line: " + what); };
  // Checked here rather than with po::required(), which would also refuse --help.
  if (o.input.empty()) throw bad("--input DIR is required");
  if (o.output.empty()) throw bad("--output DIR is required");
  if (p.layout != "avec2016" && p.layout != "manifest" && p.layout != "faces" && p.layout != "affwild2")
    throw bad(fmt::format("--layout '{}': expected avec2016, manifest, faces or affwild2", p.layout));
  if (std::find(std::begin(pre::kFaceSources), std::end(pre::kFaceSources), p.face_source) ==
      std::end(pre::kFaceSources))
    throw bad(fmt::format("--face-source '{}': expected auto, cropped-aligned or detect", p.face_source));
  if (p.face_source != "auto" && p.layout != "affwild2")
    throw bad(fmt::format("--face-source {} applies to --layout affwild2 only (this is --layout {})", p.face_source,
                          p.layout));
  // These layouts list the input's folders: shards written inside them would be read back as input
  // (under ratings_gold_standard, as a target named after the output folder, all NaN). The manifest
  // layout reads only the files its CSV names.
  if (p.layout != "manifest" && is_within(o.output, o.input))
    throw bad(
        fmt::format("--output '{}' is inside --input '{}', whose folders the {} layout reads as input; expected an "
                    "output folder outside the input",
                    o.output, o.input, p.layout));
  if (!(p.fps > 0 && p.fps <= 1000)) throw bad(fmt::format("--fps {}: expected a positive frame rate", p.fps));
  if (p.face_size < 8 || p.face_size > 1024) throw bad(fmt::format("--face-size {}: expected 8..1024", p.face_size));
  if (p.freq_bins < 1 || p.freq_bins > 513) throw bad(fmt::format("--freq-bins {}: expected 1..513", p.freq_bins));
  if (p.audio_frontend != "paper" && p.audio_frontend != "authors")
    throw bad(fmt::format("--audio-frontend '{}': expected paper or authors", p.audio_frontend));
  // The authors' front-end has its own 128 mel bands; a DFT bin count would be silently ignored.
  if (p.audio_frontend == "authors" && p.freq_bins != pre::Params{}.freq_bins && p.freq_bins != pre::MelParams{}.n_mels)
    throw bad(fmt::format("--freq-bins {} applies to the paper's front-end; --audio-frontend authors has {} mel bands",
                          p.freq_bins, pre::MelParams{}.n_mels));
  if (!(p.face_margin >= 0 && p.face_margin <= 1))
    throw bad(fmt::format("--face-margin {}: expected 0..1", p.face_margin));
  if (!(p.box_smoothing >= 0 && p.box_smoothing < 1))
    throw bad(fmt::format("--box-smoothing {}: expected 0 <= A < 1", p.box_smoothing));
  if (!(p.length_tolerance >= 0)) throw bad(fmt::format("--length-tolerance {}: expected >= 0", p.length_tolerance));
  if (!(p.max_bad_fraction >= 0 && p.max_bad_fraction <= 1))
    throw bad(fmt::format("--max-bad-fraction {}: expected a fraction 0..1", p.max_bad_fraction));
  if (!(p.min_face > 0 && p.min_face <= 1)) throw bad(fmt::format("--min-face {}: expected 0 < F <= 1", p.min_face));
  if (p.detect_width < 0) throw bad(fmt::format("--detect-width {}: expected >= 0", p.detect_width));
  if (p.full_search_every < 0) throw bad(fmt::format("--full-search-every {}: expected >= 0", p.full_search_every));
  if (!(o.timeout > 0)) throw bad(fmt::format("--dist.timeout {}: expected a positive number of seconds", o.timeout));
}

// Hash of everything a shard's content depends on: parameters and each video's input bytes.
struct Hashes {
  std::string inputs;                // for the whole shard
  std::vector<std::string> sources;  // per video, recorded as source_sha256
};

Hashes hash_inputs(const pre::PlannedShard& shard, const pre::Dataset& ds, const std::string& params_json) {
  Hashes h;
  std::string text = params_json + "\n";
  // Contents, not paths or times, decide: a moved or touched corpus is still unchanged.
  auto digest = [&](const std::string& file) {
    const std::string d = fs::exists(file) ? sha256_file(file) : "missing";
    text += fs::path(file).filename().string() + " " + d + "\n";
    return d;
  };
  for (size_t i : shard.videos) {
    const auto& v = ds.videos[i];
    text += v.id + " " + v.partition + "\n";
    if (!v.video.empty()) {
      std::string source = digest(v.video);
      for (const auto& f : v.face_images) source += digest(f);  // affwild2's cropped_aligned faces
      h.sources.push_back(v.face_images.empty() ? source : sha256_hex(source));
    } else {
      std::string images;
      for (const auto& f : v.face_images) images += digest(f);
      h.sources.push_back(sha256_hex(images));
    }
    if (!v.audio.empty()) digest(v.audio);
    for (const auto& f : v.label_files) digest(f);
  }
  h.inputs = sha256_hex(text);
  return h;
}

// This rank's share of the work, for progress (shown by rank 0) and the frames/s in the summary.
struct RankWork {
  Progress& progress;
  size_t videos_total = 0, videos_done = 0;
  int64_t frames_decoded = 0;
  pre::StageSeconds seconds;
};

// Seconds and frames/s per stage for `frames` frames.
json stages_json(const pre::StageSeconds& s, int64_t frames) {
  json out = json::object();
  for (const auto& [name, seconds] : {std::pair{"decode", s.decode},
                                      {"detect", s.detect},
                                      {"crop", s.crop},
                                      {"spectrogram", s.spectrogram},
                                      {"write", s.write}})
    out[name] = {{"seconds", seconds}, {"frames_per_s", seconds > 0 ? double(frames) / seconds : 0.0}};
  return out;
}

json video_json(const pre::ShardVideo& v) {
  return {{"id", v.id}, {"partition", v.partition}, {"n_frames", v.n_frames}, {"face_frames", v.face_frames}};
}

// Size and checksum of a finished shard, as the manifest records them.
void describe_file(json& entry, const std::string& path, bool skipped, const std::string& sha256) {
  entry["skipped"] = skipped;
  entry["bytes"] = fs::file_size(path);
  entry["sha256"] = sha256;
}

// Writes or skips one shard; returns its manifest entry (null when no video of it succeeded).
// A shard is skipped when its recorded inputs hash matches and, if an earlier manifest lists it,
// its bytes still match that manifest's sha256.
json run_shard(const pre::PlannedShard& shard, const pre::Dataset& ds, const Options& o, pre::FaceDetector& detector,
               const std::map<std::string, std::string>& previous, RankWork& work, json& failed) {
  const std::string name = shard::shard_file_name(shard.index);
  const std::string path = (fs::path(o.output) / name).string();
  const std::string params_json = o.params.to_json();
  const Hashes hashes = hash_inputs(shard, ds, params_json);
  json entry = {{"file", name}, {"videos", json::array()}};

  if (!o.force && fs::exists(path)) {
    try {
      const pre::ShardInfo info = pre::read_shard_info(path);
      if (info.inputs_sha256 == hashes.inputs) {
        const std::string sha256 = sha256_file(path);
        const auto recorded = previous.find(name);
        if (recorded != previous.end() && recorded->second != sha256) {
          log::warn("{}: changed since manifest.json was written, rewriting it", name);
        } else {
          log::info("{}: inputs and parameters unchanged, skipped", name);
          for (const auto& v : info.videos) {
            entry["videos"].push_back(video_json(v));
            work.progress.advance(
                v.n_frames, fmt::format("video {}/{} {} (unchanged)", ++work.videos_done, work.videos_total, v.id));
          }
          for (const auto& f : json::parse(info.failed)) failed.push_back(f);
          describe_file(entry, path, true, sha256);
          return entry;
        }
      }
    } catch (const std::exception& e) {
      log::warn("{}: rewriting it: {}", name, e.what());
    }
  }

  pre::ShardWriter writer(path, params_json, hashes.inputs, o.params.compression);
  json shard_failed = json::array();
  for (size_t k = 0; k < shard.videos.size(); ++k) {
    const auto& v = ds.videos[shard.videos[k]];
    const std::string note = fmt::format("video {}/{} {}", ++work.videos_done, work.videos_total, v.id);
    try {
      const auto s = pre::process_video(v, ds, hashes.sources[k], o.params, detector, writer, [&] {
        ++work.frames_decoded;
        work.progress.advance(1, note);
      });
      log::info("{}: {} frames, face found in {:.1f}%", v.id, s.n_frames, 100.0 * s.face_frames / s.n_frames);
      work.seconds += s.seconds;
      entry["videos"].push_back(video_json({s.id, s.partition, s.n_frames, s.face_frames}));
    } catch (const pre::ShardWriteError&) {
      throw;  // the file failed (disk full, quota, I/O), not the video: the shard and this rank's run fail
    } catch (const std::exception& e) {
      log::warn("{} failed: {}", v.id, e.what());
      shard_failed.push_back({{"id", v.id}, {"reason", e.what()}});
    }
  }
  for (const auto& f : shard_failed) failed.push_back(f);
  if (writer.videos() == 0) {  // nothing to keep; an older shard of this name would be stale
    fs::remove(path);
    return nullptr;
  }
  writer.commit(shard_failed.dump());
  describe_file(entry, path, false, sha256_file(path));
  return entry;
}

}  // namespace

int cmd_preprocess(const std::vector<std::string>& args) {
  Options o;
  std::string shard_size, compression;
  const CommandSpec spec = make_spec(o.params, shard_size, compression, o);
  if (!parse_args(spec, args)) return exit_code::ok;
  try {
    o.shard_size = pre::parse_size(shard_size);
    o.params.compression = pre::parse_compression(compression);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("command line: ") + e.what());
  }
  validate(o);
  if (o.params.audio_frontend == "authors") o.params.freq_bins = pre::MelParams{}.n_mels;  // recorded as such

  dist::set_wait_timeout(o.timeout);
  const dist::ProcessGroup& pg = dist::init_process_group();
  log::init(pg.rank, pg.size, false);
  // Detection is the bottleneck; share the node's cores between the ranks on it.
  cv::setNumThreads(std::max(1, int(std::thread::hardware_concurrency()) / pg.local_size));
  fs::create_directories(o.output);

  const pre::Dataset ds = pre::discover(o.params.layout, o.input, o.params.time_column, o.params.face_source);
  log::info("{} videos, targets {}; {}", ds.videos.size(), fmt::join(ds.targets, ","), dist::describe(pg));
  std::vector<int64_t> frames(ds.videos.size());
  json probe_failed = json::array();
  for (size_t i = 0; i < ds.videos.size(); ++i) {
    try {
      frames[i] = pre::estimate_frames(ds.videos[i], o.params);
    } catch (const std::exception& e) {
      frames[i] = -1;
      probe_failed.push_back({{"id", ds.videos[i].id}, {"reason", e.what()}});
    }
  }
  pre::MelParams mel;
  mel.fps = o.params.fps;
  const int64_t spectrogram_rows = o.params.audio_frontend == "authors" ? pre::mel_rows_per_frame(mel) : 1;
  const uint64_t bytes_per_frame = uint64_t(o.params.face_size) * o.params.face_size * 3 +
                                   4 * o.params.freq_bins * spectrogram_rows + 4 * ds.targets.size() + 17;
  const auto plan = pre::plan_shards(frames, bytes_per_frame, o.shard_size, pg.size);
  // Until the new manifest is written the dataset is incomplete: an interrupted run leaves none.
  // Every rank reads the old one first, to notice shards changed since it was written.
  const auto previous = pre::previous_checksums(o.output);
  dist::host_barrier(pg, "preprocessing: barrier before the old manifest is removed");
  if (pg.rank == 0) fs::remove(fs::path(o.output) / shard::kManifestFile);

  json mine = {{"shards", json::array()}, {"failed", json::array()}, {"frames", 0}, {"seconds", 0.0}};
  int64_t my_frames = 0;
  size_t my_videos = 0;
  for (const auto& s : plan)
    if (s.rank == pg.rank)
      for (size_t i : s.videos) my_frames += frames[i], ++my_videos;
  const auto start = std::chrono::steady_clock::now();
  try {
    auto detector = pre::make_face_detector(o.params.face_detector, o.params.detect_width, o.params.min_face,
                                            o.params.equalize, o.params.face_neighbours);
    Progress progress(fmt::format("preprocess (rank 0 of {})", pg.size), my_frames, "frames", o.progress);
    RankWork work{progress, my_videos, 0, 0, {}};
    for (const auto& s : plan) {
      if (s.rank != pg.rank) continue;
      json entry = run_shard(s, ds, o, *detector, previous, work, mine["failed"]);
      if (!entry.is_null()) mine["shards"].push_back(entry);
    }
    progress.finish();
    mine["frames"] = work.frames_decoded;
    mine["stages"] = stages_json(work.seconds, work.frames_decoded);
  } catch (const std::exception& e) {
    mine["fatal"] = fmt::format("rank {}: {}", pg.rank, e.what());
  }
  if (mine["frames"].get<int64_t>() > 0)
    mine["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<json> results;
  // Rank 0 waits here for the slowest rank to finish its shards.
  for (const auto& text :
       dist::gather_at_root(mine.dump(), pg,
                            "preprocessing: gathering every rank's results at rank 0 (this waits for "
                            "the slowest rank's shards: raise --dist.timeout if ranks legitimately "
                            "finish further apart)"))
    results.push_back(json::parse(text));
  int code = exit_code::ok;
  if (pg.rank == 0) {
    try {  // other ranks wait in the broadcast below, so rank 0 must always get there
      code = pre::write_dataset_manifest(results, ds, {o.output, o.params.to_json(), o.timings, o.allow_failures},
                                         probe_failed);
    } catch (const std::exception& e) {
      log::error("{}", e.what());
      code = exit_code::failure;
    }
  }
  return dist::broadcast_from_root(code, pg, "preprocessing: the exit code's broadcast from rank 0");
}

}  // namespace avf
