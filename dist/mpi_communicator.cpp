#include "dist/mpi_communicator.h"

#include <fmt/format.h>

#include <functional>
#include <stdexcept>

#include "dist/watchdog.h"

namespace avf::dist {
namespace {

class MpiWork : public Work {
 public:
  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return done_; });
    if (error_) std::rethrow_exception(error_);
  }
  bool completed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
  }
  void finish(std::exception_ptr error) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
      error_ = error;
    }
    cv_.notify_all();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat:
      return MPI_FLOAT;
    case torch::kDouble:
      return MPI_DOUBLE;
    case torch::kLong:
      return MPI_INT64_T;
    case torch::kInt:
      return MPI_INT32_T;
    case torch::kByte:
      return MPI_UINT8_T;
    case torch::kChar:
      return MPI_INT8_T;
    default:
      throw std::invalid_argument(fmt::format("MPI communicator: unsupported dtype {}", std::string(t.dtype().name())));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  return MPI_SUM;
}

void check(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(fmt::format("{} failed: {}", what, std::string(text, len)));
}

void require_contiguous(const torch::Tensor& t, const std::string& what) {
  if (!t.is_contiguous()) throw std::invalid_argument(what + ": the MPI communicator needs contiguous tensors");
  if (t.numel() > INT32_MAX) throw std::invalid_argument(what + ": more than 2^31 elements in one collective");
}

// CUDA tensors go through host memory, a copy each way, on the communicator's thread: the MPI
// communicator on GPUs serves ranks that share one GPU (NCCL refuses two ranks on one device) and
// machines without NCCL. NCCL is the fast path.
torch::Tensor on_host(const torch::Tensor& t) { return t.is_cuda() ? t.to(torch::kCPU) : t; }
void copy_back(torch::Tensor& t, const torch::Tensor& host) {
  if (t.is_cuda()) t.copy_(host);
}

std::string signature_of(const char* op, const torch::Tensor& t, int extra = 0) {
  return fmt::format("{}({} x {}, {})", op, t.numel(), std::string(t.dtype().name()), extra);
}

}  // namespace

MpiCommunicator::MpiCommunicator(double timeout_s, bool debug) : debug_(debug), tracker_(timeout_s) {
  {
    WatchedWait wait("creating the MPI communicator (MPI_Comm_dup, with every rank)", timeout_s);
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
  }
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  thread_ = std::thread([this] { worker(); });
}

MpiCommunicator::~MpiCommunicator() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::worker() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

WorkPtr MpiCommunicator::submit(const std::string& what, const std::string& signature, std::function<void()> body) {
  auto work = std::make_shared<MpiWork>();
  auto task = [this, work, what, signature, body = std::move(body)] {
    const uint64_t seq = tracker_.begin(what);
    std::exception_ptr error;
    try {
      if (debug_) verify_same_call(comm_, rank_, fmt::format("{} #{}", what, seq), signature);
      body();
    } catch (...) {
      error = std::current_exception();
    }
    tracker_.end(seq);
    work->finish(error);
  };
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return work;
}

WorkPtr MpiCommunicator::allreduce(torch::Tensor t, ReduceOp op, const std::string& what) {
  require_contiguous(t, what);
  return submit(what, signature_of("allreduce", t, int(op)), [this, t, op, what]() mutable {
    auto h = on_host(t);
    check(MPI_Allreduce(MPI_IN_PLACE, h.data_ptr(), int(h.numel()), mpi_type(h), mpi_op(op), comm_), what);
    if (op == ReduceOp::avg) h.div_(size_);
    copy_back(t, h);
  });
}

WorkPtr MpiCommunicator::broadcast(torch::Tensor t, int root, const std::string& what) {
  require_contiguous(t, what);
  return submit(what, signature_of("broadcast", t, root), [this, t, root, what]() mutable {
    auto h = on_host(t);
    check(MPI_Bcast(h.data_ptr(), int(h.numel()), mpi_type(h), root, comm_), what);
    copy_back(t, h);
  });
}

WorkPtr MpiCommunicator::allgather(torch::Tensor in, torch::Tensor out, const std::string& what) {
  require_contiguous(in, what);
  require_contiguous(out, what);
  if (out.numel() != in.numel() * size_ || out.scalar_type() != in.scalar_type())
    throw std::invalid_argument(what + ": output must hold size() * input.numel() elements of the input's dtype");
  return submit(what, signature_of("allgather", in), [this, in, out, what]() mutable {
    auto h_in = on_host(in), h_out = on_host(out);
    check(MPI_Allgather(h_in.data_ptr(), int(h_in.numel()), mpi_type(h_in), h_out.data_ptr(), int(h_in.numel()),
                        mpi_type(h_out), comm_),
          what);
    copy_back(out, h_out);
  });
}

WorkPtr MpiCommunicator::barrier(const std::string& what) {
  return submit(what, "barrier", [this, what] { check(MPI_Barrier(comm_), what); });
}

}  // namespace avf::dist
