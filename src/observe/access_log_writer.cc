#include "observe/access_log_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace turnout::observe::access_log_detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxIovecs = IOV_MAX;  // per writev

// turnout ignores SIGPIPE process-wide (app/run.cc), but the log does not rely on it: with
// SIGPIPE blocked on the writer thread, a write to a pipe nobody reads fails with EPIPE instead
// of killing the process. The signal is sent to this thread only, stays pending while blocked,
// and is discarded when the thread ends.
void blockSigpipe() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void makeNonBlockingUnlessRegular(int fd) {
  struct stat status;
  if (::fstat(fd, &status) != 0 || S_ISREG(status.st_mode)) return;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

int openSink(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot open access log " + path + ": " + std::strerror(errno);
    return -1;
  }
  // The file description is ours alone (stdout's never is), so its flags are ours to change.
  makeNonBlockingUnlessRegular(fd);
  return fd;
}

// The writer thread's loop: collects what every queue holds into one writev, writes it (partial
// writes resumed, EINTR retried), and frees the queues' space as the bytes reach the sink.
class SharedState::Writer {
 public:
  explicit Writer(SharedState& shared) : shared_(shared) {}

  void run() {
    blockSigpipe();
    while (!shared_.stopping()) {
      waitForWork();
      flushOnce();
    }
    // The workers are done; flush what they left, for as long as the grace period allows.
    while (anythingQueued() && Clock::now() < shared_.stopDeadline()) flushOnce();
    dropAllQueued();
  }

 private:
  struct Pending {
    WorkerQueue* queue;
    size_t bytes;  // gathered from this queue and not yet written or dropped
  };

  void waitForWork() {
    std::unique_lock lock(shared_.mutex_);
    shared_.wake_cv_.wait_for(lock, kWakeInterval, [this] {
      return shared_.wake_pending_.load(std::memory_order_acquire) || shared_.stopping();
    });
    shared_.wake_pending_.store(false, std::memory_order_relaxed);
  }

  void flushOnce() {
    const bool gathered = gather();
    // Looked at after gathering: a line queued after reopen() was called goes to the new file.
    reopenIfAsked();
    if (!gathered) return;
    // A line cut short by an earlier error gets its end first, so that later lines stay whole.
    terminator_pending_ = sink_mid_line_;
    if (terminator_pending_) iov_.insert(iov_.begin(), {const_cast<char*>("\n"), 1});
    writeGathered();
  }

  // Fills iov_ and pending_ from the queues; false when they are all empty.
  bool gather() {
    iov_.clear();
    pending_.clear();
    next_pending_ = 0;
    const size_t count = shared_.queues_.size();
    // Two entries per queue (a wrapped ring), one for a line terminator.
    for (size_t i = 0; i < count && iov_.size() + 3 <= kMaxIovecs; ++i) {
      // Start at a different queue each time so that none waits behind a full iovec array.
      WorkerQueue& queue = *shared_.queues_[(first_queue_ + i) % count];
      // Cleared before looking: a worker that passes half full after this wakes the writer again.
      queue.wake_asked.store(false, std::memory_order_relaxed);
      size_t bytes = 0;
      for (std::string_view span : queue.ring.peek()) {
        if (span.empty()) continue;
        iov_.push_back({const_cast<char*>(span.data()), span.size()});
        bytes += span.size();
      }
      if (bytes > 0) pending_.push_back({&queue, bytes});
    }
    if (count > 0) first_queue_ = (first_queue_ + 1) % count;
    return !pending_.empty();
  }

  void writeGathered() {
    size_t first = 0;
    while (first < iov_.size()) {
      const int count = static_cast<int>(std::min(iov_.size() - first, kMaxIovecs));
      const ssize_t written = ::writev(shared_.fd_, iov_.data() + first, count);
      if (written > 0) {
        account(static_cast<size_t>(written));
        first = skipWritten(first, static_cast<size_t>(written));
      } else if (written < 0 && errno == EINTR) {
        continue;
      } else if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waitWritable()) {
        continue;
      } else {
        dropUnwritten();  // EPIPE, ENOSPC, EIO... or the grace period ran out: carry on
        return;
      }
    }
  }

  // Advances iov_ past `written` bytes starting at iov_[first]; returns the new first entry.
  size_t skipWritten(size_t first, size_t written) {
    while (first < iov_.size() && written >= iov_[first].iov_len) {
      written -= iov_[first].iov_len;
      ++first;
    }
    if (written > 0) {
      iov_[first].iov_base = static_cast<char*>(iov_[first].iov_base) + written;
      iov_[first].iov_len -= written;
    }
    return first;
  }

  // Frees the written bytes from their queues and counts the lines they complete.
  void account(size_t written) {
    if (terminator_pending_) {
      terminator_pending_ = false;
      sink_mid_line_ = false;
      --written;
    }
    while (written > 0) {
      Pending& pending = pending_[next_pending_];
      const size_t bytes = std::min(written, pending.bytes);
      const ByteRing::Released released = pending.queue->ring.release(bytes);
      shared_.countWritten(released.lines);
      sink_mid_line_ = !released.ends_at_line;
      pending.bytes -= bytes;
      written -= bytes;
      if (pending.bytes == 0) ++next_pending_;
    }
  }

  // The sink refused the rest: free it and count its lines as dropped. A line already begun in
  // the sink is ended before the next write (sink_mid_line_).
  void dropUnwritten() {
    for (; next_pending_ < pending_.size(); ++next_pending_) {
      Pending& pending = pending_[next_pending_];
      shared_.countSinkDropped(pending.queue->ring.release(pending.bytes).lines);
      pending.bytes = 0;
    }
  }

  // For a non-blocking sink that is full: true once it can take more, false when the writer
  // is stopping and its grace period is over.
  bool waitWritable() {
    for (;;) {
      auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kWakeInterval);
      if (shared_.stopping()) {
        const auto left = shared_.stopDeadline() - Clock::now();
        if (left <= Clock::duration::zero()) return false;
        timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(left));
      }
      pollfd sink{shared_.fd_, POLLOUT, 0};
      const int ready = ::poll(&sink, 1, static_cast<int>(timeout.count()));
      if (ready > 0) return true;  // writable, or an error the next write reports
      if (ready < 0 && errno != EINTR) return false;
    }
  }

  // Opens the new file before closing the old one; on failure keeps the old one and tries again
  // on the next wake-up. Nobody is told: a worker has nothing to do about it.
  void reopenIfAsked() {
    if (!shared_.owns_fd_ || !shared_.reopen_asked_.exchange(false)) return;
    std::string error;
    const int fd = openSink(shared_.path_, error);
    if (fd < 0) {
      shared_.reopen_asked_.store(true);
      return;
    }
    ::close(std::exchange(shared_.fd_, fd));
    sink_mid_line_ = false;  // a cut line belongs to the old file
  }

  bool anythingQueued() const {
    for (const auto& queue : shared_.queues_) {
      if (!queue->ring.peek()[0].empty()) return true;
    }
    return false;
  }

  void dropAllQueued() {
    for (const auto& queue : shared_.queues_) {
      const auto spans = queue->ring.peek();
      shared_.countSinkDropped(queue->ring.release(spans[0].size() + spans[1].size()).lines);
    }
  }

  SharedState& shared_;
  std::vector<iovec> iov_;
  std::vector<Pending> pending_;
  size_t next_pending_ = 0;          // the first pending_ entry with bytes left
  size_t first_queue_ = 0;           // where gather() starts
  bool terminator_pending_ = false;  // iov_[0] is the '\n' that ends a cut line
  bool sink_mid_line_ = false;       // the sink's last byte is inside a line
};

SharedState::SharedState(std::string path, int fd, uint32_t worker_count, size_t queue_bytes,
                         uint64_t seed)
    : path_(std::move(path)), owns_fd_(path_ != "-"), fd_(fd) {
  queues_.reserve(worker_count);
  for (uint32_t i = 0; i < worker_count; ++i) {
    queues_.push_back(std::make_unique<WorkerQueue>(queue_bytes, seed + i));
  }
}

SharedState::~SharedState() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool SharedState::enqueue(uint32_t worker, std::string_view line) {
  WorkerQueue& queue = *queues_[worker];
  if (!queue.ring.push(line)) {
    queue.dropped.store(queue.dropped.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
    return false;
  }
  // Once per drain at most: the writer clears wake_asked after emptying this queue.
  if (!queue.wake_asked.load(std::memory_order_relaxed) && queue.ring.moreThanHalfFull() &&
      !queue.wake_asked.exchange(true, std::memory_order_relaxed)) {
    wakeWriter();
  }
  return true;
}

// Without the mutex, so that a worker never waits for a lock: if the writer is between testing
// its predicate and sleeping, this notification is lost and it wakes at its next interval.
// glibc's notify makes no system call when nobody waits.
void SharedState::wakeWriter() {
  wake_pending_.store(true, std::memory_order_release);
  wake_cv_.notify_one();
}

uint64_t SharedState::dropped() const {
  uint64_t total = sink_dropped_.load(std::memory_order_relaxed);
  for (const auto& queue : queues_) total += queue->dropped.load(std::memory_order_relaxed);
  return total;
}

void SharedState::countWritten(uint64_t lines) {
  written_.store(written_.load(std::memory_order_relaxed) + lines, std::memory_order_relaxed);
}

void SharedState::countSinkDropped(uint64_t lines) {
  sink_dropped_.store(sink_dropped_.load(std::memory_order_relaxed) + lines,
                      std::memory_order_relaxed);
}

std::chrono::steady_clock::time_point SharedState::stopDeadline() const {
  return Clock::time_point(Clock::duration(stop_deadline_ns_.load(std::memory_order_relaxed)));
}

void SharedState::runWriter() {
  Writer(*this).run();
  if (owns_fd_) ::close(std::exchange(fd_, -1));
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  finished_cv_.notify_all();
}

bool SharedState::stopWriter(std::chrono::milliseconds grace, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + grace;
  stop_deadline_ns_.store(
      std::chrono::duration_cast<Clock::duration>(deadline.time_since_epoch()).count(),
      std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    stop_asked_.store(true, std::memory_order_release);
  }
  wake_cv_.notify_all();
  std::unique_lock lock(mutex_);
  return finished_cv_.wait_for(lock, wait, [this] { return finished_; });
}

}  // namespace turnout::observe::access_log_detail
