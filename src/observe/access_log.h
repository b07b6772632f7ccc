// The access log: one JSON object per line, written by a thread of its own. A worker formats
// its line into its own bounded queue and goes on; it never waits for the disk. When the sink
// falls behind and a queue is full, the line is dropped and counted (dropped()), never
// blocking the data plane. SIGHUP reopens the file (logrotate's "move, then signal").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace turnout::observe {

// One finished exchange, as the worker saw it. The views are only valid during write().
struct AccessRecord {
  uint64_t timestamp_ms = 0;  // wall clock, when the request arrived
  std::string_view request_id;
  std::string_view client;  // "ip:port" of the client
  std::string_view method;
  std::string_view path;     // as the client sent it (target)
  std::string_view host;     // Host header
  int status = 0;            // 0: no response (dropped); 499: the client left first
  uint64_t bytes_in = 0;     // request bytes read from the client (head + body)
  uint64_t bytes_out = 0;    // response bytes written to the client (head + body)
  uint64_t duration_us = 0;  // request arrival to the last byte answered
  int64_t upstream_us = -1;  // request sent upstream to response head; -1 = never upstream
  std::string_view route;    // route id, "" when none matched
  std::string_view src;      // this proxy's identity ("" when it has none)
  std::string_view service;  // dst is "service:version" ("service" when version is "")
  std::string_view version;
  std::string_view upstream;  // endpoint address, "" when none was picked
  std::string_view fault;     // "", "delay", "abort", "drop", "delay+abort", "delay+drop"
  std::string_view gremlin_header_name;  // the header that triggered the fault
  std::string_view gremlin_header_val;
  uint32_t retries = 0;
};

// Wall-clock milliseconds since the epoch, `duration_us` ago: when a request that took that
// long arrived.
inline uint64_t wallClockMsAgo(uint64_t duration_us) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) -
         duration_us / 1000;
}

struct AccessLogOptions {
  std::string path;  // a file (appended to, created 0644) or "-" for stdout
  // The fields written, in this order; empty = every field (kAccessLogFields order).
  std::vector<std::string> fields;
  // Share of exchanges logged, in (0, 1]; exchanges answered 5xx or not at all are always logged.
  double sample = 1.0;
  uint32_t queue_bytes = 1 << 20;  // per worker: bytes of formatted lines waiting to be written
};

// Field names, in the default order: timestamp_ms, request_id, client, method, path, host,
// status, bytes_in, bytes_out, duration_ms, upstream_duration_ms, route, src, dst, upstream,
// fault, gremlin_header_name, gremlin_header_val, retries.
extern const std::vector<std::string_view> kAccessLogFields;

class AccessLog {
 public:
  // Opens the sink and starts the writer thread; nullptr with `error` (a field name the log
  // does not know, a bad sample share, a file that cannot be opened).
  static std::unique_ptr<AccessLog> open(const AccessLogOptions& options, uint32_t worker_count,
                                         std::string& error);
  virtual ~AccessLog() = default;  // flushes what is queued, then stops the writer

  // Worker `worker`'s thread only: whether this exchange is logged (sampling).
  virtual bool sampled(uint32_t worker, int status) = 0;
  // Worker `worker`'s thread only: formats and queues one line; never blocks. A line that does
  // not fit in the worker's queue is dropped and counted in dropped().
  virtual void write(uint32_t worker, const AccessRecord& record) = 0;
  // Any thread (a signal handler's deferred work): the writer reopens the file before its
  // next write.
  virtual void reopen() = 0;

  virtual uint64_t written() const = 0;  // lines written to the sink
  virtual uint64_t dropped() const = 0;  // lines dropped because a queue was full
};

}  // namespace turnout::observe
