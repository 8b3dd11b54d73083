#include "core/data/device_batches.h"

#if AVF_TORCH_HAS_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace avf {

#if AVF_TORCH_HAS_CUDA
struct DeviceBatches::Ahead {
  std::optional<Batch> batch;
  at::cuda::CUDAEvent copied;
  c10::cuda::CUDAStream side;
  explicit Ahead(const torch::Device& d) : side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, d.index())) {}

  // Starts copying b to the device on the side stream.
  void start(Batch b, const torch::Device& device) {
    const auto compute = c10::cuda::getCurrentCUDAStream(device.index());
    {
      c10::cuda::CUDAStreamGuard guard(side);
      for (torch::Tensor* t : {&b.visual, &b.visual_blank, &b.labels, &b.audio}) {
        if (!t->defined()) continue;
        *t = t->to(device, /*non_blocking=*/true);  // asynchronous from pinned memory
        // Allocated on the side stream, used on the compute stream: the caching allocator must not
        // hand the memory out again before the compute stream is done with it.
        t->record_stream(compute);
      }
      copied.record(side);
    }
    batch = std::move(b);
  }
};
#else
struct DeviceBatches::Ahead {};
#endif

DeviceBatches::DeviceBatches(Source source, const torch::Device& device)
    : source_(std::move(source)), device_(device) {}

DeviceBatches::~DeviceBatches() = default;

std::optional<Batch> DeviceBatches::next() {
#if AVF_TORCH_HAS_CUDA
  if (device_.is_cuda()) {
    if (!ahead_) {  // the first batch: nothing was started yet
      ahead_ = std::make_unique<Ahead>(device_);
      if (auto b = source_()) ahead_->start(std::move(*b), device_);
    }
    if (!ahead_->batch) return std::nullopt;
    ahead_->copied.block(c10::cuda::getCurrentCUDAStream(device_.index()));
    std::optional<Batch> out = std::move(ahead_->batch);
    ahead_->batch.reset();
    if (auto b = source_()) ahead_->start(std::move(*b), device_);
    return out;
  }
#endif
  return source_();
}

}  // namespace avf
