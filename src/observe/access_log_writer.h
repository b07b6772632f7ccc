// The access log's writer thread and what it shares with the workers: one queue per worker, the
// sink's file descriptor, the counters, and the wake-up and stop signals.
//
// The shared state is reference counted because the writer may outlive the AccessLog: when the
// sink is stuck in a blocking write we cannot interrupt (stdout to a pipe nobody reads), the
// AccessLog's destructor gives up after its grace period and detaches the thread, which frees
// the state (and closes the file) if that write ever returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observe/access_log_ring.h"

namespace turnout::observe::access_log_detail {

// How often the writer looks at the queues when nobody wakes it earlier.
inline constexpr std::chrono::milliseconds kWakeInterval{25};

// One worker's side of the log. The worker owns scratch, rng_state and the producer side of the
// ring; the writer owns the consumer side.
struct alignas(64) WorkerQueue {
  WorkerQueue(size_t queue_bytes, uint64_t seed) : ring(queue_bytes), rng_state(seed) {}

  ByteRing ring;
  std::atomic<bool> wake_asked{false};  // set by the worker past half full, cleared by the writer
  std::atomic<uint64_t> dropped{0};     // lines that did not fit; the worker is the only writer
  std::string scratch;                  // the line being formatted, reused
  uint64_t rng_state;                   // the sampling PRNG
};

// Opens `path` for appending (created 0644); -1 with `error` on failure. A sink that is not a
// regular file (a FIFO, a device) is made non-blocking so that the writer can give up on it.
int openSink(const std::string& path, std::string& error);

class SharedState {
 public:
  // `fd` is the sink (1 for stdout, which is never closed); `path` is "-" for stdout.
  SharedState(std::string path, int fd, uint32_t worker_count, size_t queue_bytes, uint64_t seed);
  ~SharedState();
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  WorkerQueue& queue(uint32_t worker) { return *queues_[worker]; }

  // Worker: queues a formatted line; false when it did not fit (and is counted as dropped).
  bool enqueue(uint32_t worker, std::string_view line);
  // Any thread, signal handlers included: only sets a flag the writer reads.
  void requestReopen() { reopen_asked_.store(true); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const;

  // The writer thread's body: returns once stopped and flushed (or given up).
  void runWriter();
  // The AccessLog's destructor: asks the writer to flush and stop, giving it `grace`; true when
  // it finished within `wait` (then it can be joined).
  bool stopWriter(std::chrono::milliseconds grace, std::chrono::milliseconds wait);

 private:
  class Writer;

  void wakeWriter();
  bool stopping() const { return stop_asked_.load(std::memory_order_acquire); }
  std::chrono::steady_clock::time_point stopDeadline() const;
  void countWritten(uint64_t lines);
  void countSinkDropped(uint64_t lines);

  const std::string path_;
  const bool owns_fd_;
  int fd_;  // the writer's only, once it runs
  std::vector<std::unique_ptr<WorkerQueue>> queues_;

  std::atomic<uint64_t> written_{0};       // the writer is the only writer
  std::atomic<uint64_t> sink_dropped_{0};  // lines the sink refused; the writer's only
  std::atomic<bool> reopen_asked_{false};
  std::atomic<bool> wake_pending_{false};  // a queue is past half full
  std::atomic<bool> stop_asked_{false};
  std::atomic<int64_t> stop_deadline_ns_{0};  // steady clock; meaningful once stop_asked_

  std::mutex mutex_;  // for the condition variables only; never held while writing
  std::condition_variable wake_cv_;
  std::condition_variable finished_cv_;
  bool finished_ = false;
};

}  // namespace turnout::observe::access_log_detail
