#include "dist/nccl_communicator.h"

#include <fmt/format.h>

#include <functional>
#include <stdexcept>

#include "dist/watchdog.h"

namespace avf::dist {
namespace {

void check_cuda(cudaError_t rc, const std::string& what) {
  if (rc != cudaSuccess) throw std::runtime_error(fmt::format("{}: CUDA error: {}", what, cudaGetErrorString(rc)));
}

void check_nccl(ncclResult_t rc, const std::string& what) {
  if (rc != ncclSuccess) throw std::runtime_error(fmt::format("{}: NCCL error: {}", what, ncclGetErrorString(rc)));
}

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat:
      return ncclFloat32;
    case torch::kDouble:
      return ncclFloat64;
    case torch::kHalf:
      return ncclFloat16;
    case torch::kBFloat16:
      return ncclBfloat16;
    case torch::kLong:
      return ncclInt64;
    case torch::kInt:
      return ncclInt32;
    case torch::kByte:
      return ncclUint8;
    case torch::kChar:
      return ncclInt8;
    default:
      throw std::invalid_argument(
          fmt::format("NCCL communicator: unsupported dtype {}", std::string(t.dtype().name())));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return ncclSum;
    case ReduceOp::avg:
      return ncclAvg;
    case ReduceOp::max:
      return ncclMax;
    case ReduceOp::min:
      return ncclMin;
  }
  return ncclSum;
}

void require_contiguous(const torch::Tensor& t, const std::string& what) {
  if (!t.is_contiguous()) throw std::invalid_argument(what + ": the NCCL communicator needs contiguous tensors");
}

class NcclWork : public Work {
 public:
  // after_wait: runs once the collective is done (copies a staged result back to a CPU tensor).
  NcclWork(cudaEvent_t done, CollectiveTracker& tracker, uint64_t seq, std::function<void()> after_wait)
      : done_(done), tracker_(tracker), seq_(seq), after_wait_(std::move(after_wait)) {}
  ~NcclWork() override { cudaEventDestroy(done_); }
  void wait() override {
    if (waited_) return;
    check_cuda(cudaEventSynchronize(done_), "waiting for a NCCL collective");
    tracker_.end(seq_);
    waited_ = true;
    if (after_wait_) after_wait_();
  }
  bool completed() const override { return waited_ || cudaEventQuery(done_) == cudaSuccess; }

 private:
  cudaEvent_t done_;
  CollectiveTracker& tracker_;
  uint64_t seq_;
  std::function<void()> after_wait_;
  bool waited_ = false;
};

}  // namespace

NcclCommunicator::NcclCommunicator(double timeout_s, bool debug, int device)
    : device_(device), debug_(debug), tracker_(timeout_s) {
  // Every rank takes part in creating the communicator: watched like any other wait on the others.
  WatchedWait wait("creating the NCCL communicator (MPI_Comm_dup, the unique id's broadcast, ncclCommInitRank)",
                   timeout_s);
  MPI_Comm_dup(MPI_COMM_WORLD, &mpi_);
  MPI_Comm_rank(mpi_, &rank_);
  MPI_Comm_size(mpi_, &size_);
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  ncclUniqueId id;
  if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, mpi_);
  check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  tracker_.set_poll([this] {
    ncclResult_t async_error = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async_error), "ncclCommGetAsyncError");
    if (async_error != ncclSuccess) {
      ncclCommAbort(comm_);
      check_nccl(async_error, "asynchronous NCCL error");
    }
  });
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) ncclCommDestroy(comm_);
  if (stream_) cudaStreamDestroy(stream_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&mpi_);
}

torch::Tensor NcclCommunicator::on_device(const torch::Tensor& t) const {
  return t.is_cuda() ? t : t.to(torch::Device(torch::kCUDA, device_));
}

template <class Launch>
WorkPtr NcclCommunicator::enqueue(const std::string& what, const std::string& signature, Launch launch,
                                  std::function<void()> after_wait) {
  if (debug_) verify_same_call(mpi_, rank_, what, signature);
  check_cuda(cudaSetDevice(device_), what);
  cudaEvent_t ready, done;
  check_cuda(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), what);
  check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), what);
  check_cuda(cudaEventRecord(ready, cudaStreamLegacy), what);
  check_cuda(cudaStreamWaitEvent(stream_, ready, 0), what);
  cudaEventDestroy(ready);
  const uint64_t seq = tracker_.begin(what);
  check_nccl(launch(), what);
  check_cuda(cudaEventRecord(done, stream_), what);
  return std::make_shared<NcclWork>(done, tracker_, seq, std::move(after_wait));
}

namespace {
// CPU tensors (control data: RNG states, evaluation statistics, shape checks) travel through a device
// copy; the result lands back in the caller's tensor when the Work is waited on.
std::function<void()> copy_back(torch::Tensor host, torch::Tensor device) {
  if (host.is_cuda()) return {};
  return [host, device]() mutable { host.copy_(device); };
}
}  // namespace

WorkPtr NcclCommunicator::allreduce(torch::Tensor t, ReduceOp op, const std::string& what) {
  require_contiguous(t, what);
  auto d = on_device(t);
  return enqueue(
      what, fmt::format("allreduce({} x {}, {})", t.numel(), std::string(t.dtype().name()), int(op)),
      [&] { return ncclAllReduce(d.data_ptr(), d.data_ptr(), d.numel(), nccl_type(d), nccl_op(op), comm_, stream_); },
      copy_back(t, d));
}

WorkPtr NcclCommunicator::broadcast(torch::Tensor t, int root, const std::string& what) {
  require_contiguous(t, what);
  auto d = on_device(t);
  return enqueue(
      what, fmt::format("broadcast({} x {}, {})", t.numel(), std::string(t.dtype().name()), root),
      [&] { return ncclBroadcast(d.data_ptr(), d.data_ptr(), d.numel(), nccl_type(d), root, comm_, stream_); },
      copy_back(t, d));
}

WorkPtr NcclCommunicator::allgather(torch::Tensor in, torch::Tensor out, const std::string& what) {
  require_contiguous(in, what);
  require_contiguous(out, what);
  if (out.numel() != in.numel() * size_ || out.scalar_type() != in.scalar_type())
    throw std::invalid_argument(what + ": output must hold size() * input.numel() elements of the input's dtype");
  auto d_in = on_device(in), d_out = on_device(out);
  return enqueue(
      what, fmt::format("allgather({} x {})", in.numel(), std::string(in.dtype().name())),
      [&] { return ncclAllGather(d_in.data_ptr(), d_out.data_ptr(), d_in.numel(), nccl_type(d_in), comm_, stream_); },
      copy_back(out, d_out));
}

WorkPtr NcclCommunicator::barrier(const std::string& what) {
  // A host-side barrier is what callers mean (e.g. before rank 0 reads files the others wrote).
  const uint64_t seq = tracker_.begin(what);
  MPI_Barrier(mpi_);
  tracker_.end(seq);
  struct Done : Work {
    void wait() override {}
    bool completed() const override { return true; }
  };
  return std::make_shared<Done>();
}

}  // namespace avf::dist
