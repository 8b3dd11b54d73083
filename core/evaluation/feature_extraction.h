// Per-sub-sequence features of videos from the trained visual and audio networks (what `avf extract`
// stores and `avf predict` feeds to the fusion head), streamed as core/data/stream.h describes.
#pragma once
#include <functional>

#include "core/data/feature_store.h"
#include "core/data/stage_data.h"
#include "core/data/stream.h"
#include "core/models/stage_model.h"

namespace avf {

// Features of `mine`, this rank's part of `videos` (videos_of_rank), in the order of `mine`. `data`
// must provide both modalities (open_shard_data with both configs). on_batch(n) reports progress in
// sequences; `times` gets the stream's split (core/data/stream.h). `offsets`: frames past the
// sub-sequence grid to extract features at, increasing from 0 (> 0 fill VideoFeatures::off_grid; each
// costs a pass over every video).
std::vector<VideoFeatures> extract_features(const StageData& data, const std::vector<size_t>& videos,
                                            const std::vector<size_t>& mine, StageModel& visual, StageModel& audio,
                                            int64_t L, int64_t S, const StreamOptions& options, StreamTimes& times,
                                            const std::function<void(int64_t)>& on_batch = {},
                                            const std::vector<int64_t>& offsets = {0});

// One video on its own (`avf predict`).
VideoFeatures extract_video_features(const StageData& data, size_t video, StageModel& visual, StageModel& audio,
                                     int64_t L, int64_t S, const StreamOptions& options);

}  // namespace avf
