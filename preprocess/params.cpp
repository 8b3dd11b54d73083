#include "preprocess/params.h"

#include <nlohmann/json.hpp>

#include "core/data/shard_format.h"
#include "preprocess/audio.h"
#include "preprocess/mel_frontend.h"
#include "preprocess/shard_writer.h"
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
                      {"full_search_every", full_search_every},
                      {"equalize", equalize},
                      {"face_neighbours", face_neighbours},
                      {"box_smoothing", box_smoothing},
                      {"max_gap", max_gap},
                      {"length_tolerance_s", length_tolerance},
                      {"max_bad_fraction", max_bad_fraction},
                      {"time_column", time_column},
                      {"compression", compression.to_string()},
                      {"sample_rate", kSampleRate},
                      {"window_ms", SpectrogramParams{}.window_s * 1000},
                      {"dft_length", SpectrogramParams{}.n_fft},
                      {"spectrogram", "log-power dB, Hann window, bins 0..freq_bins-1 at k*15.625 Hz"},
                      {"shard_format_version", shard::kVersion}};
  // Recorded only when it is not the paper's, so datasets preprocessed before the option existed keep
  // their parameter text (and are not redone); absent means paper.
  if (audio_frontend != "paper") {
    const MelParams mel;
    j["audio_frontend"] = audio_frontend;
    j["window_ms"] = mel.win_length * 1000.0 / kSampleRate;
    j["hop_ms"] = mel.hop_s * 1000;
    MelParams at_fps;
    at_fps.fps = fps;
    j["rows_per_frame"] = mel_rows_per_frame(at_fps);
    j["spectrogram"] =
        "authors' front-end: torchaudio MelSpectrogram (n_fft 1024, Hann, center reflect, normalized, "
        "power 2, 128 HTK mel bands 0-8000 Hz, norm none), zeros -> 1e-19, log2";
  }
  // Only the affwild2 layout has a choice of faces; the other layouts' parameter text stays as it was.
  if (layout == "affwild2") j["face_source"] = face_source;
  return j.dump();  // nlohmann::json objects keep keys sorted
}

Params Params::from_json(const std::string& text, const std::string& source) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::runtime_error(source + ": preprocessing parameters are not a JSON object");
  Params p;
  try {
    p.layout = j.at("layout").get<std::string>();
    p.fps = j.at("fps").get<double>();
    p.face_size = j.at("face_size").get<int>();
    p.freq_bins = j.at("freq_bins").get<int>();
    p.face_detector = j.at("face_detector").get<std::string>();
    p.detect_width = j.at("detect_width").get<int>();
    p.face_margin = j.at("face_margin").get<double>();
    p.min_face = j.at("min_face").get<double>();
    // Manifests written before the knob existed were searched this way: whole frames only when no face was followed.
    p.full_search_every = j.value("full_search_every", 0);
    p.equalize = j.value("equalize", true);
    p.face_neighbours = j.value("face_neighbours", 4);  // what avf asked the cascade for before the knob
    p.box_smoothing = j.at("box_smoothing").get<double>();
    p.max_gap = j.at("max_gap").get<int>();
    p.length_tolerance = j.at("length_tolerance_s").get<double>();
    // Manifests written before the knob existed get today's default: it changes which videos
    // fail, not how a video that passes is preprocessed.
    p.max_bad_fraction = j.value("max_bad_fraction", Params{}.max_bad_fraction);
    p.time_column = j.at("time_column").get<std::string>();
    p.audio_frontend = j.value("audio_frontend", std::string("paper"));
    p.face_source = j.value("face_source", std::string("auto"));
    if (p.audio_frontend != "paper" && p.audio_frontend != "authors")
      throw std::runtime_error("audio_frontend '" + p.audio_frontend + "', expected paper or authors");
    p.compression = parse_compression(j.at("compression").get<std::string>());
  } catch (const std::exception& e) {
    throw std::runtime_error(source + ": preprocessing parameters: " + e.what());
  }
  return p;
}

}  // namespace avf::pre
