// The videos to preprocess, found from one of the input layouts (--layout):
//   avec2016  recordings_video/<id>.mp4|avi|..., recordings_audio/<id>.wav,
//             ratings_gold_standard/<target>/<id>.arff (one folder per target, e.g. arousal, valence)
//   manifest  a CSV "id,video,audio,labels,partition" (paths relative to it; audio may be empty:
//             then the video's own audio stream is used; labels is a CSV with a time column)
//   faces     faces/<id>/*.png|jpg (cropped faces, one per frame at --fps), audio/<id>.<ext>,
//             labels/<id>.csv
// The partition of avec2016 and faces ids is the text before the first '_' (train_1 -> train).
#pragma once
#include <string>
#include <vector>

namespace avf::pre {

struct VideoInput {
  std::string id, partition;
  std::string video;                     // empty for the faces layout
  std::vector<std::string> face_images;  // faces layout: one image per frame, in frame order
  std::string audio;                     // empty: the video's own audio stream
  // avec2016: one ARFF per target, in target order (a missing file gives a NaN column);
  // manifest/faces: one CSV holding every target.
  std::vector<std::string> label_files;
};

struct Dataset {
  std::vector<VideoInput> videos;    // sorted by id
  std::vector<std::string> targets;  // label columns, in the order shards store them
  std::string label_format;          // "arff" or "csv"
};

// Throws std::runtime_error naming the path when the layout's folders or manifest are missing or bad.
Dataset discover(const std::string& layout, const std::string& input, const std::string& time_column);

}  // namespace avf::pre
