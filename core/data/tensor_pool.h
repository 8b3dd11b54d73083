// Batch buffers handed out again once nobody holds them. On the CPU a visual batch at the paper's
// face size (2 sequences of 8 clips of 16 x 224 x 224 x 3 bytes: 38.5 MB) is above glibc's largest
// mmap threshold (32 MiB, core/base/malloc_reuse.h), so each fresh one was mapped, faulted in page by
// page, zeroed by the kernel and unmapped again: the loader delivered 0.2 of a raw read. Pinned
// buffers (a CUDA device takes the batch) are not pooled here: LibTorch's pinned allocator already
// caches them and knows when an asynchronous copy out of one has finished.
#pragma once
#include <torch/types.h>

#include <mutex>
#include <vector>

namespace avf {

class TensorPool {
 public:
  // A contiguous tensor of these sizes and dtype, uninitialised: one of the pool's that nothing else
  // references any more (no tensor, view or storage outside the pool), else a new one the pool keeps
  // (at most `capacity`; past it new tensors are not kept). Thread-safe.
  torch::Tensor take(at::IntArrayRef sizes, torch::ScalarType dtype);
  explicit TensorPool(size_t capacity) : capacity_(capacity) {}

 private:
  std::mutex mutex_;
  std::vector<torch::Tensor> kept_;
  size_t capacity_;
};

}  // namespace avf
