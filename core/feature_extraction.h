// Per-sub-sequence features of one video from the trained visual and audio networks (what
// `avf extract` stores and `avf predict` feeds to the fusion head).
#pragma once
#include <functional>

#include "core/feature_store.h"
#include "core/stage_data.h"
#include "core/stage_model.h"

namespace avf {

// `data` must provide both modalities (open_shard_data with both configs). on_batch(n) reports
// progress in sequences.
VideoFeatures extract_video_features(const StageData& data, size_t video, StageModel& visual, StageModel& audio,
                                     int64_t L, int64_t S, int batch_size, torch::Device device,
                                     const std::function<void(int64_t)>& on_batch = {});

}  // namespace avf
