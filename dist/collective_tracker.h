// A communicator's view of the watchdog (dist/watchdog.h): each collective in flight is registered
// as "collective '<name>' (#<sequence number>)"; one that is not done within the timeout ends the
// whole job (MPI_Abort) with a message naming the rank, the collective and its sequence number. A
// hang is never an option.
#pragma once
#include <mpi.h>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace avf::dist {

class CollectiveTracker {
 public:
  // on_timeout is called (from the watchdog thread) with the message; by default it aborts the job.
  CollectiveTracker(double timeout_s, std::function<void(const std::string&)> on_timeout = {});
  ~CollectiveTracker();                     // removes the poll and stops watching what is still in flight
  uint64_t begin(const std::string& name);  // returns the sequence number
  void end(uint64_t seq);
  // Extra periodic check (NCCL polls its asynchronous errors here); throwing from it aborts the job
  // naming the rank and "communicator failed". Call at most once.
  void set_poll(std::function<void()> poll);

 private:
  double timeout_s_;
  std::function<void(const std::string&)> on_timeout_;
  std::mutex mutex_;
  std::map<uint64_t, uint64_t> in_flight_;  // sequence number -> watchdog id
  uint64_t next_seq_ = 0;
  uint64_t poll_id_ = 0;  // 0: none
};

// dist.debug: every rank describes the collective it is about to call (`signature`); throws naming
// `what` and this rank's call when the ranks disagree. One small all-reduce on `comm`.
void verify_same_call(MPI_Comm comm, int rank, const std::string& what, const std::string& signature);

}  // namespace avf::dist
