// Face detection recall and speed of avf's detector settings against a plain OpenCV reference
// (preprocess/face_recall.h), one table per clip in nccl-tests style columns:
//
//   bench_faces [--stride N] [--max-frames N] [--settings haar:640:0.2,lbp:480:0.1:25,...] CLIP...
//
// A setting is cascade:detect-width:min-face, then any of :N (a whole-frame search every N frames),
// :untracked (every frame searched whole), :eq (histogram equalisation), :nK (the cascade asked for K
// neighbours, minNeighbors, instead of 3). CLIP is a video (any format FFmpeg reads) or an image. The README's
// trade-off table and the defaults in preprocess/params.h come from this on OpenCV's Megamind.avi and the clips of
// tools/make-face-clips.
#include <fmt/format.h>
#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <opencv2/core/utility.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "preprocess/face_recall.h"

using avf::pre::FaceSetting;

namespace {

// The README's table: the old default (equalised, 4 neighbours, no periodic whole-frame search), then
// detection width x min-face with the periodic search, and the default with 4 neighbours.
const char* kDefaultSettings =
    "haar:640:0.2:eq:n4,haar:640:0.1:25,haar:640:0.075:25,haar:640:0.075:25:n4,haar:640:0.05:25,"
    "haar:480:0.1:25,haar:320:0.1:25,lbp:480:0.1:25";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

FaceSetting parse_setting(const std::string& spec) {
  const auto f = split(spec, ':');
  if (f.size() < 3)
    throw std::runtime_error(
        fmt::format("setting '{}': expected cascade:width:min-face[:N|:untracked|:eq|:nK]...", spec));
  FaceSetting s;
  s.detector = f[0];
  s.detect_width = std::stoi(f[1]);
  s.min_face = std::stod(f[2]);
  for (size_t i = 3; i < f.size(); ++i) {
    if (f[i] == "untracked")
      s.track = false;
    else if (f[i] == "eq")
      s.equalize = true;
    else if (f[i][0] == 'n')
      s.neighbours = std::stoi(f[i].substr(1));
    else
      s.full_search_every = std::stoi(f[i]);
  }
  return s;
}

std::string machine() {
  utsname u{};
  uname(&u);
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return fmt::format("{}, {} cores, {} {}, OpenCV {} with {} threads, load average {:.1f}", cpu,
                     std::thread::hardware_concurrency(), u.sysname, u.release, CV_VERSION, cv::getNumThreads(), load);
}

}  // namespace

int main(int argc, char** argv) {
  int stride = 1;
  int64_t max_frames = 0;
  std::string settings_text = kDefaultSettings;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--stride" || a == "--max-frames" || a == "--settings") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--stride") stride = std::stoi(v);
      if (a == "--max-frames") max_frames = std::stoll(v);
      if (a == "--settings") settings_text = v;
    } else if (a == "--help" || a == "-h" || a.rfind("--", 0) == 0) {
      std::printf(
          "usage: bench_faces [--stride N] [--max-frames N] [--settings S,...] CLIP...\n"
          "  S = cascade:detect-width:min-face[:N][:untracked][:eq][:nK]\n  default: %s\n",
          kDefaultSettings);
      return a == "--help" || a == "-h" ? 0 : 2;
    } else {
      clips.push_back(a);
    }
  }
  try {
    std::vector<FaceSetting> settings;
    for (const auto& s : split(settings_text, ',')) settings.push_back(parse_setting(s));
    std::printf(
        "# face detection: avf's settings against the plain Haar cascade (detectMultiScale defaults, full\n"
        "# resolution grey frame); recall = frames where the reference finds a face and ours overlaps one\n"
        "# (IoU >= 0.3 or our centre inside) / frames where the reference finds a face\n# machine: %s\n",
        machine().c_str());
    for (const auto& clip : clips) {
      const auto frames = avf::pre::read_frames(clip, max_frames);
      if (frames.empty()) throw std::runtime_error(clip + ": no frames");
      const auto t = avf::pre::measure_recall(frames, settings, stride);
      int64_t evaluated = 0, with_face = 0;
      for (size_t i = 0; i < frames.size(); ++i)
        if (t.reference.evaluated[i]) ++evaluated, with_face += !t.reference.boxes[i].empty();
      const double ref_ms = 1e3 * t.reference.seconds / std::max<int64_t>(1, evaluated);
      std::printf("\n# %s: %zu frames %dx%d; reference on every %d: %lld frames, face in %lld, %.1f ms/frame\n",
                  clip.c_str(), frames.size(), frames[0].cols, frames[0].rows, stride, (long long)evaluated,
                  (long long)with_face, ref_ms);
      std::printf("# %-30s %7s %9s %8s %8s %9s %9s\n", "setting", "frames", "ref-face", "recall", "found", "ms/frame",
                  "speed-up");
      for (size_t k = 0; k < settings.size(); ++k) {
        const auto& r = t.rows[k];
        const double ms = 1e3 * r.seconds / std::max<int64_t>(1, r.frames);
        std::printf("  %-30s %7lld %9lld %8.3f %8.3f %9.2f %9.1f\n", settings[k].name().c_str(), (long long)r.frames,
                    (long long)r.reference_frames, r.recall(), double(r.found) / std::max<int64_t>(1, r.frames), ms,
                    ref_ms / ms);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_faces: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
