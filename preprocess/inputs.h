// The videos to preprocess, found from one of the input layouts (--layout):
//   avec2016  recordings_video/<id>.mp4|avi|..., recordings_audio/<id>.wav,
//             ratings_gold_standard/<target>/<id>.arff (one folder per target, e.g. arousal, valence)
//   manifest  a CSV "id,video,audio,labels,partition" (paths relative to it; audio may be empty:
//             then the video's own audio stream is used; labels is a CSV with a time column)
//   faces     faces/<id>/*.png|jpg (cropped faces, one per frame at --fps), audio/<id>.<ext>,
//             labels/<id>.csv
//   affwild2  Aff-Wild2 (ABAW): [<any>/]VA_Estimation_Challenge/{Train_Set,Validation_Set}/<id>.txt
//             (preprocess/labels.h), the videos <id>.mp4|avi anywhere under videos/, raw_videos/,
//             raw_video/, batch1/, batch2/, batch3/ or new_vids/ (audio: the video's own stream), and
//             the organisers' faces cropped_aligned/<id>/00001.jpg ... (numbered by source frame from
//             1; a missing number is a frame without a face). <name>_left and <name>_right are the two
//             people of the one video <name>.*: each keeps its own face (face_side).
// The partition of avec2016 and faces ids is the text before the first '_' (train_1 -> train); that of
// affwild2 ids its annotation folder's: Train_Set -> train, Validation_Set -> dev, Test_Set -> test.
#pragma once
#include <string>
#include <vector>

namespace avf::pre {

struct VideoInput {
  std::string id, partition;
  std::string video;                     // empty for the faces layout
  std::vector<std::string> face_images;  // faces layout: one image per frame, in frame order;
                                         // affwild2: cropped_aligned/<id>/<source frame + 1>.jpg, if used
  std::string audio;                     // empty: the video's own audio stream
  // avec2016: one ARFF per target, in target order (a missing file gives a NaN column);
  // manifest/faces: one CSV holding every target; affwild2: the annotation .txt.
  std::vector<std::string> label_files;
  std::string face_side;  // affwild2: "left" | "right" for <name>_left/_right, else "" (the largest face)
  std::string error;      // set when discovery already knows the video cannot be done: it fails with this
};

struct Dataset {
  std::vector<VideoInput> videos;    // sorted by id
  std::vector<std::string> targets;  // label columns, in the order shards store them
  std::string label_format;          // "arff", "csv" or "affwild2"
};

// Where affwild2 faces come from: "auto" (cropped_aligned/<id>/ when it holds images, else detected
// in the video), "cropped-aligned" (always; a video without them fails) or "detect" (always detected).
inline const char* const kFaceSources[] = {"auto", "cropped-aligned", "detect"};

// Throws std::runtime_error naming the path when the layout's folders or manifest are missing or bad.
Dataset discover(const std::string& layout, const std::string& input, const std::string& time_column,
                 const std::string& face_source = "auto");

}  // namespace avf::pre
