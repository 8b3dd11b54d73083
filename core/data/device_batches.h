// Training batches moved onto the device one step ahead. On a CUDA device the copy of batch k+1
// (the uint8 face clips from pinned memory, the labels, the audio windows or features) runs on a
// side stream while the compute stream runs step k, and step k+1 waits for it with an event, so the
// copy is hidden behind compute (issue 16); the float conversion then runs on the device
// (core/data/visual_input.h). On the CPU the batches pass through as they are.
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>

#include "core/data/stage_data.h"

namespace avf {

class DeviceBatches {
 public:
  using Source = std::function<std::optional<Batch>()>;  // e.g. the Loader's next(); nullopt at the end
  DeviceBatches(Source source, const torch::Device& device);
  ~DeviceBatches();
  DeviceBatches(const DeviceBatches&) = delete;
  DeviceBatches& operator=(const DeviceBatches&) = delete;

  // The source's next batch with its tensors on the device (usable on the current stream), or
  // nullopt at the end. On CUDA it has already started copying the one after.
  std::optional<Batch> next();

 private:
  struct Ahead;  // the batch being copied and its event (CUDA builds of LibTorch only)
  Source source_;
  torch::Device device_;
  std::unique_ptr<Ahead> ahead_;
};

}  // namespace avf
