// Every preprocessing knob. All of them are recorded in each shard's `params` attribute and in the
// manifest; a change to any of them makes a re-run redo the shards.
#pragma once
#include <string>

#include "preprocess/shard_writer.h"

namespace avf::pre {

struct Params {
  std::string layout = "avec2016";
  double fps = 25.0;
  int face_size = 224;
  int freq_bins = 129;                   // spectrogram columns: DFT bins (paper) or mel bands (authors)
  std::string audio_frontend = "paper";  // paper | authors (preprocess/mel_frontend.h)
  std::string face_detector = "haar";
  int detect_width = 640;          // frames wider than this are scaled down for detection
  double min_face = 0.075;         // smallest face searched, as a fraction of the frame's shorter side
  bool equalize = false;           // histogram-equalise the grey frame before a cascade
  int face_neighbours = 3;         // a cascade's minNeighbors (make_face_detector)
  int full_search_every = 25;      // frames between whole-frame searches while a face is followed (0 = never)
  double face_margin = 0.2;        // crop side = max(w, h) * (1 + 2 * margin)
  double box_smoothing = 0.6;      // weight of the previous box in the exponential smoothing
  int max_gap = 12;                // frames without a face after which tracking restarts
  double length_tolerance = 1.0;   // seconds audio/labels may differ from the video
  double max_bad_fraction = 0.01;  // of a stream's packets that may fail to decode (skipped); more fail the video
  std::string time_column = "time";
  std::string face_source = "auto";  // affwild2: auto | cropped-aligned | detect (preprocess/inputs.h)
  Compression compression;
  std::string to_json() const;  // canonical (sorted keys), so equal params give equal text
  // The knobs back from to_json() text (e.g. a manifest's `params`), to preprocess new videos the
  // same way; `source` names where the text came from in errors.
  static Params from_json(const std::string& json, const std::string& source);
};

}  // namespace avf::pre
