// Request metrics, sharded per worker and merged at scrape time. A worker counts its own
// requests into its own shard without a lock or an atomic read-modify-write: each counter has
// one writer (a relaxed load then a relaxed store) and any number of readers (the scraper,
// which sees a value at most a few increments old). Series live in an append-only registry per
// worker, so counters survive route recompiles and the scraper never waits for a worker.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace turnout::observe {

class ShardCounter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Upper bounds in seconds: fine enough for p50/p99 from 100 us to 60 s (Prometheus adds +Inf).
inline constexpr std::array<double, 19> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,     1,      2.5,   5,      10,    15,   30,    60};

class ShardHistogram {
 public:
  void observe(uint64_t micros);
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }  // not cumulative; last = +Inf
  uint64_t count() const { return count_.get(); }
  uint64_t sumMicros() const { return sum_us_.get(); }

 private:
  std::array<ShardCounter, kLatencyBuckets.size() + 1> buckets_;
  ShardCounter count_;
  ShardCounter sum_us_;
};

// Status codes are counted in a fixed table: the common ones by code, the rest by class.
inline constexpr std::array<uint16_t, 27> kTrackedCodes = {
    200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404,
    405, 408, 409, 412, 413, 414, 429, 431, 499, 500, 502, 503, 504};
inline constexpr size_t kCodeSlots = kTrackedCodes.size() + 5;  // + "other" for 1xx..5xx

// The slot of `status` in a code table, and back.
size_t codeSlot(int status);
std::string codeLabel(size_t slot);  // "404", or "5xx" for an untracked 5xx
std::string codeClass(size_t slot);  // "4xx"

// Why a request was sent upstream again (turnout_retries_total's reason label).
enum class RetryReason : uint8_t {
  kConnectFailure,   // the endpoint could not be reached
  kReset,            // the connection ended before a response head
  kPerTryTimeout,    // no response head within the per-try timeout
  kStatus,           // a status the route retries
  kStaleConnection,  // a pooled connection the upstream had closed (same endpoint, once)
};
inline constexpr size_t kRetryReasonCount = 5;
std::string_view retryReasonName(RetryReason reason);

struct SeriesKey {
  std::string route;
  std::string service;
  std::string version;
};

struct RouteSeries {
  SeriesKey key;
  std::array<ShardCounter, kCodeSlots> codes;
  ShardHistogram request;   // accept of the head to the last byte answered
  ShardHistogram upstream;  // request sent to the response head received
};

// One worker's shard. series() is for its worker only; forEachSeries() and the gauges for any
// thread.
class WorkerMetrics {
 public:
  WorkerMetrics();
  ~WorkerMetrics();
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // The series of (route, service, version), created on first use; nullptr once the registry
  // is full (kMaxSeries), when the request simply goes uncounted.
  RouteSeries* series(std::string_view route, std::string_view service, std::string_view version);

  template <class Visit>
  void forEachSeries(Visit visit) const {
    const size_t count = count_.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) visit(*at(i));
  }
  size_t seriesCount() const { return count_.load(std::memory_order_acquire); }

  ShardCounter requests_active;     // gauge: requests in flight (add and "sub" by adding back)
  ShardCounter connections_active;  // gauge: client connections open
  ShardCounter bytes_in;            // request bytes read from clients
  ShardCounter bytes_out;           // response bytes written to clients
  ShardCounter upstream_connections_active;  // gauge: upstream connections open (pooled too)
  std::array<ShardCounter, kRetryReasonCount> retries;  // requests sent again, by RetryReason

  static constexpr size_t kChunk = 256;
  static constexpr size_t kMaxSeries = kChunk * 1024;  // 262,144 series per worker

 private:
  struct Chunk {
    std::array<RouteSeries, kChunk> items;
  };
  RouteSeries* at(size_t i) const {
    return &chunks_[i / kChunk].load(std::memory_order_acquire)->items[i % kChunk];
  }

  std::unordered_map<std::string, RouteSeries*> index_;  // worker-private
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::atomic<size_t> count_{0};
};

// Gauges that go down: a single writer stores value+1 / value-1 (as counters do).
inline void gaugeAdd(ShardCounter& gauge, int64_t delta) {
  gauge.add(static_cast<uint64_t>(delta));  // wraps for negative deltas; readers sum shards
}

// Appends `name="value"` (preceded by a comma unless `first`), the value escaped as the text
// format wants.
void appendLabel(std::string& out, std::string_view name, std::string_view value, bool first);

// Appends the "# HELP" and "# TYPE" lines of a metric family.
void appendMetricHeader(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type);

// Appends a label set, `{name="value",...}` with the values escaped for the text format.
void appendLabels(std::string& out,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

// Appends one histogram without labels, its header included.
void renderHistogram(std::string& out, std::string_view name, std::string_view help,
                     const ShardHistogram& histogram);

// Renders every worker's series merged by key (and the histograms merged by route) in the
// Prometheus text format.
void renderRequestMetrics(const std::vector<const WorkerMetrics*>& workers, std::string& out);

}  // namespace turnout::observe
