// One video through the whole chain: labels, audio, video frames -> faces, spectrogram, labels,
// appended to an open shard. Bad input throws std::runtime_error naming the file and the problem.
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

struct VideoSummary {
  std::string id, partition;
  int64_t n_frames = 0, face_frames = 0;
};

// Frames the video will give at p.fps, from its header (for planning shards and progress).
int64_t estimate_frames(const VideoInput& v, const Params& p);

// source_sha256 is recorded in the video's attributes; on_frame is called once per output frame.
VideoSummary process_video(const VideoInput& v, const Dataset& dataset, const std::string& source_sha256,
                           const Params& p, FaceDetector& detector, ShardWriter& writer, const std::function<void()>& on_frame);

}  // namespace avf::pre
