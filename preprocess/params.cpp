#include "preprocess/params.h"

#include <nlohmann/json.hpp>

#include "core/shard_format.h"
#include "preprocess/audio.h"
#include "preprocess/spectrogram.h"

namespace avf::pre {

std::string Params::to_json() const {
  nlohmann::json j = {{"layout", layout},
                      {"fps", fps},
                      {"face_size", face_size},
                      {"freq_bins", freq_bins},
                      {"face_detector", face_detector},
                      {"detect_width", detect_width},
                      {"face_margin", face_margin},
                      {"min_face", min_face},
                      {"box_smoothing", box_smoothing},
                      {"max_gap", max_gap},
                      {"length_tolerance_s", length_tolerance},
                      {"time_column", time_column},
                      {"compression", compression.to_string()},
                      {"sample_rate", kSampleRate},
                      {"window_ms", SpectrogramParams{}.window_s * 1000},
                      {"dft_length", SpectrogramParams{}.n_fft},
                      {"spectrogram", "log-power dB, Hann window, bins 0..freq_bins-1 at k*15.625 Hz"},
                      {"shard_format_version", shard::kVersion}};
  return j.dump();  // nlohmann::json objects keep keys sorted
}

}  // namespace avf::pre
