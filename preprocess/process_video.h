// One video through the whole chain: labels, audio, video frames -> faces, spectrogram, labels,
// appended to an open shard. Bad input throws std::runtime_error naming the file and the problem.
// Packets a decoder refuses are skipped with a warning (audio: silence for their duration; video: the
// frame before stays on screen), up to Params::max_bad_fraction of a stream's packets; more throw.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "preprocess/face.h"
#include "preprocess/inputs.h"
#include "preprocess/params.h"
#include "preprocess/shard_writer.h"

namespace avf::pre {

// Seconds spent per preprocessing stage, summed over videos (what `avf preprocess --timings` reports).
struct StageSeconds {
  double decode = 0;       // video frames (and the audio, labels) decoded and resampled
  double detect = 0;       // face detection and box tracking
  double crop = 0;         // crop, resize and colour conversion of the face
  double spectrogram = 0;  // the audio's log spectrogram
  double write = 0;        // HDF5 writes of faces, spectrogram, labels and boxes
  StageSeconds& operator+=(const StageSeconds& o);
};

struct VideoSummary {
  std::string id, partition;
  int64_t n_frames = 0, face_frames = 0;
  StageSeconds seconds;
};

// Frames the video will give at p.fps, from its header (for planning shards and progress).
int64_t estimate_frames(const VideoInput& v, const Params& p);

// source_sha256 is recorded in the video's attributes; on_frame is called once per output frame.
VideoSummary process_video(const VideoInput& v, const Dataset& dataset, const std::string& source_sha256,
                           const Params& p, FaceDetector& detector, ShardWriter& writer,
                           const std::function<void()>& on_frame);

}  // namespace avf::pre
