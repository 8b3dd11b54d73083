// Watchdog over in-flight collectives: each one is registered with its name and sequence number;
// one that is not done within the timeout ends the whole job (MPI_Abort) with a message naming the
// rank, the collective and its sequence number. A hang is never an option.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mpi.h>
#include <mutex>
#include <string>
#include <thread>

namespace avf::dist {

class CollectiveTracker {
 public:
  // on_timeout is called (from the watchdog thread) with the message; by default it aborts the job.
  CollectiveTracker(double timeout_s, std::function<void(const std::string&)> on_timeout = {});
  ~CollectiveTracker();
  uint64_t begin(const std::string& name);  // returns the sequence number
  void end(uint64_t seq);
  // Extra periodic check (NCCL polls its asynchronous errors here); throwing from it aborts the job.
  void set_poll(std::function<void()> poll) { poll_ = std::move(poll); }

 private:
  void run();
  struct InFlight {
    std::string name;
    std::chrono::steady_clock::time_point start;
  };
  double timeout_s_;
  std::function<void(const std::string&)> on_timeout_;
  std::function<void()> poll_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<uint64_t, InFlight> in_flight_;
  uint64_t next_seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// dist.debug: every rank describes the collective it is about to call (`signature`); throws naming
// `what` and this rank's call when the ranks disagree. One small all-reduce on `comm`.
void verify_same_call(MPI_Comm comm, int rank, const std::string& what, const std::string& signature);

}  // namespace avf::dist
