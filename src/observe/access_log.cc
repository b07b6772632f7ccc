// The access log: workers format and queue (access_log_format, access_log_ring), one writer
// thread writes (access_log_writer). This file checks the options and ties them together.
#include "observe/access_log.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>

#include "observe/access_log_format.h"
#include "observe/access_log_writer.h"

namespace turnout::observe {

const std::vector<std::string_view> kAccessLogFields = {"timestamp_ms",
                                                        "request_id",
                                                        "client",
                                                        "method",
                                                        "path",
                                                        "host",
                                                        "status",
                                                        "bytes_in",
                                                        "bytes_out",
                                                        "duration_ms",
                                                        "upstream_duration_ms",
                                                        "route",
                                                        "src",
                                                        "dst",
                                                        "upstream",
                                                        "fault",
                                                        "gremlin_header_name",
                                                        "gremlin_header_val",
                                                        "retries"};

namespace {

using access_log_detail::Field;
using access_log_detail::LineFormatter;
using access_log_detail::SharedState;

// The destructor gives the writer this long to write what is queued to a slow sink...
constexpr std::chrono::milliseconds kStopGrace{2000};
// ...and waits this long for it before detaching it (stuck in a write it cannot leave).
constexpr std::chrono::milliseconds kStopWait{3000};

// splitmix64: an add and three multiply-xorshifts per draw, plenty for sampling.
uint64_t nextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool checkOptions(const AccessLogOptions& options, std::string& error) {
  if (!(options.sample > 0 && options.sample <= 1)) {  // NaN fails both comparisons
    char text[64];
    std::snprintf(text, sizeof text, "%g", options.sample);
    error = std::string("access log sample must be in (0, 1], not ") + text;
    return false;
  }
  if (options.queue_bytes == 0) {
    error = "access log queue_bytes must be positive";
    return false;
  }
  return true;
}

class QueuedAccessLog final : public AccessLog {
 public:
  QueuedAccessLog(std::shared_ptr<SharedState> shared, const std::vector<Field>& fields,
                  double sample, bool to_stdout)
      : shared_(std::move(shared)),
        formatter_(fields),
        log_everything_(sample >= 1),
        // A draw below this is logged: sample * 2^64 (sample < 1 here, so it fits).
        threshold_(log_everything_ ? 0 : static_cast<uint64_t>(std::ldexp(sample, 64))),
        to_stdout_(to_stdout),
        writer_([shared = shared_] { shared->runWriter(); }) {}

  ~QueuedAccessLog() override {
    if (shared_->stopWriter(kStopGrace, kStopWait)) {
      writer_.join();
    } else {
      writer_.detach();  // it owns a reference to the shared state and closes the file itself
    }
  }

  bool sampled(uint32_t worker, int status) override {
    if (log_everything_ || status >= 500 || status == 0) return true;
    return nextRandom(shared_->queue(worker).rng_state) < threshold_;
  }

  void write(uint32_t worker, const AccessRecord& record) override {
    std::string& line = shared_->queue(worker).scratch;
    formatter_.format(record, line);
    shared_->enqueue(worker, line);
  }

  void reopen() override {
    if (!to_stdout_) shared_->requestReopen();
  }

  uint64_t written() const override { return shared_->written(); }
  uint64_t dropped() const override { return shared_->dropped(); }

 private:
  std::shared_ptr<SharedState> shared_;
  const LineFormatter formatter_;
  const bool log_everything_;
  const uint64_t threshold_;
  const bool to_stdout_;
  std::thread writer_;  // last: it starts once everything above is ready
};

}  // namespace

std::unique_ptr<AccessLog> AccessLog::open(const AccessLogOptions& options, uint32_t worker_count,
                                           std::string& error) {
  std::vector<Field> fields;
  if (!access_log_detail::parseFields(options.fields, fields, error)) return nullptr;
  if (!checkOptions(options, error)) return nullptr;
  const bool to_stdout = options.path == "-";
  const int fd = to_stdout ? 1 : access_log_detail::openSink(options.path, error);
  if (fd < 0) return nullptr;
  const uint64_t seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  auto shared =
      std::make_shared<SharedState>(options.path, fd, worker_count, options.queue_bytes, seed);
  return std::make_unique<QueuedAccessLog>(std::move(shared), fields, options.sample, to_stdout);
}

}  // namespace turnout::observe
