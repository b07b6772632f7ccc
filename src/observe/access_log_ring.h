// The access log's per-worker queue: a bounded single-producer single-consumer byte ring. The
// producer (one worker) appends whole lines, all or nothing, so the consumer (the writer thread)
// never sees part of a line. Neither side takes a lock or makes a system call.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace turnout::observe::access_log_detail {

class ByteRing {
 public:
  explicit ByteRing(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Producer: copies `bytes` in when all of them fit; false (nothing copied) otherwise.
  bool push(std::string_view bytes) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (bytes.size() > capacity_ - (head - tail_seen_)) {
      tail_seen_ = tail_.load(std::memory_order_acquire);  // the consumer may have freed room
      if (bytes.size() > capacity_ - (head - tail_seen_)) return false;
    }
    const size_t at = head % capacity_;
    const size_t first = std::min(bytes.size(), capacity_ - at);
    std::memcpy(data_.get() + at, bytes.data(), first);
    std::memcpy(data_.get(), bytes.data() + first, bytes.size() - first);
    head_.store(head + bytes.size(), std::memory_order_release);
    return true;
  }

  // Producer: whether more than half the capacity is queued. Reads the consumer's position only
  // when the cheap, possibly stale estimate says so.
  bool moreThanHalfFull() {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_seen_ <= capacity_ / 2) return false;
    tail_seen_ = tail_.load(std::memory_order_acquire);
    return head - tail_seen_ > capacity_ / 2;
  }

  // Consumer: the queued bytes, oldest first, as two spans (the second is non-empty on wrap).
  std::array<std::string_view, 2> peek() const {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const size_t queued = head_.load(std::memory_order_acquire) - tail;
    const size_t at = tail % capacity_;
    const size_t first = std::min(queued, capacity_ - at);
    return {std::string_view(data_.get() + at, first),
            std::string_view(data_.get(), queued - first)};
  }

  struct Released {
    uint64_t lines = 0;        // '\n' bytes among those released
    bool ends_at_line = true;  // the last byte released was '\n' (or nothing was released)
  };

  // Consumer: frees the oldest `n` queued bytes (n <= what peek() showed), counting the lines.
  Released release(size_t n) {
    Released released;
    size_t left = n;
    for (std::string_view span : peek()) {
      span = span.substr(0, left);
      left -= span.size();
      released.lines += static_cast<uint64_t>(std::count(span.begin(), span.end(), '\n'));
      if (!span.empty()) released.ends_at_line = span.back() == '\n';
    }
    tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    return released;
  }

 private:
  std::unique_ptr<char[]> data_;
  const size_t capacity_;
  // Positions only grow; the producer owns head_ and tail_seen_, the consumer owns tail_. Each
  // side's position sits on its own cache line so that they do not bounce between cores.
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tail_seen_ = 0;  // the producer's last look at tail_
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace turnout::observe::access_log_detail
