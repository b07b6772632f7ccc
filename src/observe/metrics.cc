#include "observe/metrics.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace turnout::observe {
namespace {

constexpr size_t kClassOther = kTrackedCodes.size();  // slots for "1xx".."5xx" follow

std::string seriesId(std::string_view route, std::string_view service, std::string_view version) {
  std::string id;
  id.reserve(route.size() + service.size() + version.size() + 2);
  id.append(route).append(1, '\0').append(service).append(1, '\0').append(version);
  return id;
}

}  // namespace

std::string_view retryReasonName(RetryReason reason) {
  switch (reason) {
    case RetryReason::kConnectFailure:
      return "connect_failure";
    case RetryReason::kReset:
      return "reset";
    case RetryReason::kPerTryTimeout:
      return "per_try_timeout";
    case RetryReason::kStatus:
      return "status";
    case RetryReason::kStaleConnection:
      return "stale_connection";
  }
  return "";
}

// Label values escaped as the text format wants: backslash, double quote and newline.
void appendLabel(std::string& out, std::string_view name, std::string_view value, bool first) {
  if (!first) out += ',';
  out.append(name).append("=\"");
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

namespace {

// The `le` label values, formatted once ("0.0001" ... "60", "+Inf").
const std::array<std::string, kLatencyBuckets.size() + 1>& bucketBounds() {
  static const auto kBounds = [] {
    std::array<std::string, kLatencyBuckets.size() + 1> bounds;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", kLatencyBuckets[i]);
      bounds[i] = text;
    }
    bounds.back() = "+Inf";
    return bounds;
  }();
  return kBounds;
}

struct MergedHistogram {
  std::array<uint64_t, kLatencyBuckets.size() + 1> buckets{};
  uint64_t count = 0;
  uint64_t sum_us = 0;

  void add(const ShardHistogram& shard) {
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += shard.bucket(i);
    count += shard.count();
    sum_us += shard.sumMicros();
  }
};

// One histogram's lines; with an empty `label` the series carry only `le`.
void appendHistogramSeries(std::string& out, std::string_view name, std::string_view label,
                           std::string_view value, const MergedHistogram& histogram) {
  std::string labels;  // 'route="x"' or ""
  if (!label.empty()) appendLabel(labels, label, value, true);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.buckets.size(); ++i) {
    cumulative += histogram.buckets[i];
    out.append(name).append("_bucket{").append(labels);
    appendLabel(out, "le", bucketBounds()[i], labels.empty());
    out.append("} ").append(std::to_string(cumulative)).append("\n");
  }
  const auto start = [&](std::string_view suffix) {
    out.append(name).append(suffix);
    if (!labels.empty()) out.append("{").append(labels).append("}");
  };
  char sum[40];
  std::snprintf(sum, sizeof sum, " %.6f\n", static_cast<double>(histogram.sum_us) / 1e6);
  start("_sum");
  out.append(sum);
  start("_count");
  out.append(" ").append(std::to_string(histogram.count)).append("\n");
}

void appendHistogram(std::string& out, std::string_view name,
                     const std::map<std::string, MergedHistogram>& by_route) {
  for (const auto& [route, histogram] : by_route) {
    appendHistogramSeries(out, name, "route", route, histogram);
  }
}

}  // namespace

void appendMetricHeader(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).append("\n");
}

void appendLabels(std::string& out,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    appendLabel(out, name, value, first);
    first = false;
  }
  out += '}';
}

void renderHistogram(std::string& out, std::string_view name, std::string_view help,
                     const ShardHistogram& histogram) {
  appendMetricHeader(out, name, help, "histogram");
  MergedHistogram merged;
  merged.add(histogram);
  appendHistogramSeries(out, name, "", "", merged);
}

void ShardHistogram::observe(uint64_t micros) {
  static constexpr auto kBoundsMicros = [] {
    std::array<uint64_t, kLatencyBuckets.size()> bounds{};
    for (size_t i = 0; i < bounds.size(); ++i) {
      bounds[i] = static_cast<uint64_t>(kLatencyBuckets[i] * 1'000'000.0 + 0.5);
    }
    return bounds;
  }();
  const size_t i = static_cast<size_t>(
      std::lower_bound(kBoundsMicros.begin(), kBoundsMicros.end(), micros) - kBoundsMicros.begin());
  buckets_[i].add();
  count_.add();
  sum_us_.add(micros);
}

size_t codeSlot(int status) {
  // One table lookup per request instead of a scan of the tracked codes.
  static const auto kSlots = [] {
    std::array<uint8_t, 600> slots{};
    for (size_t code = 0; code < slots.size(); ++code) {
      int klass = static_cast<int>(code) / 100;
      if (klass < 1 || klass > 5) klass = 5;  // nothing else reaches a client; an error
      slots[code] = static_cast<uint8_t>(kClassOther + static_cast<size_t>(klass - 1));
    }
    for (size_t i = 0; i < kTrackedCodes.size(); ++i)
      slots[kTrackedCodes[i]] = static_cast<uint8_t>(i);
    return slots;
  }();
  return status >= 0 && status < 600 ? kSlots[static_cast<size_t>(status)] : kClassOther + 4;
}

std::string codeLabel(size_t slot) {
  if (slot < kTrackedCodes.size()) return std::to_string(kTrackedCodes[slot]);
  return codeClass(slot);
}

std::string codeClass(size_t slot) {
  int klass = slot < kTrackedCodes.size() ? kTrackedCodes[slot] / 100
                                          : static_cast<int>(slot - kClassOther) + 1;
  return std::to_string(klass) + "xx";
}

WorkerMetrics::WorkerMetrics()
    : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxSeries / kChunk)) {
  for (size_t i = 0; i < kMaxSeries / kChunk; ++i) chunks_[i].store(nullptr);
}

WorkerMetrics::~WorkerMetrics() {
  for (size_t i = 0; i < kMaxSeries / kChunk; ++i) delete chunks_[i].load();
}

RouteSeries* WorkerMetrics::series(std::string_view route, std::string_view service,
                                   std::string_view version) {
  std::string id = seriesId(route, service, version);
  auto found = index_.find(id);
  if (found != index_.end()) return found->second;
  const size_t n = count_.load(std::memory_order_relaxed);
  if (n >= kMaxSeries) return nullptr;
  if (n % kChunk == 0) chunks_[n / kChunk].store(new Chunk(), std::memory_order_release);
  RouteSeries* created = &chunks_[n / kChunk].load(std::memory_order_relaxed)->items[n % kChunk];
  created->key = SeriesKey{std::string(route), std::string(service), std::string(version)};
  count_.store(n + 1, std::memory_order_release);  // the scraper sees the key filled in
  index_.emplace(std::move(id), created);
  return created;
}

void renderRequestMetrics(const std::vector<const WorkerMetrics*>& workers, std::string& out) {
  struct Merged {
    SeriesKey key;
    std::array<uint64_t, kCodeSlots> codes{};
  };
  std::map<std::string, Merged> series;
  std::map<std::string, MergedHistogram> request_by_route, upstream_by_route;
  for (const WorkerMetrics* worker : workers) {
    worker->forEachSeries([&](const RouteSeries& one) {
      Merged& merged = series[seriesId(one.key.route, one.key.service, one.key.version)];
      merged.key = one.key;
      for (size_t i = 0; i < kCodeSlots; ++i) merged.codes[i] += one.codes[i].get();
      request_by_route[one.key.route].add(one.request);
      upstream_by_route[one.key.route].add(one.upstream);
    });
  }
  appendMetricHeader(out, "turnout_requests_total",
                     "Requests answered, by route, service, version and status code.", "counter");
  for (const auto& [id, merged] : series) {
    for (size_t slot = 0; slot < kCodeSlots; ++slot) {
      if (merged.codes[slot] == 0) continue;  // series appear with their first request
      out.append("turnout_requests_total{");
      appendLabel(out, "route", merged.key.route, true);
      appendLabel(out, "service", merged.key.service, false);
      appendLabel(out, "version", merged.key.version, false);
      appendLabel(out, "code_class", codeClass(slot), false);
      appendLabel(out, "code", codeLabel(slot), false);
      out.append("} ").append(std::to_string(merged.codes[slot])).append("\n");
    }
  }
  appendMetricHeader(out, "turnout_request_duration_seconds",
                     "Time from the first byte of a request to the end of its answer, by route.",
                     "histogram");
  appendHistogram(out, "turnout_request_duration_seconds", request_by_route);
  appendMetricHeader(out, "turnout_upstream_duration_seconds",
                     "Time from sending a request upstream to its response head, by route.",
                     "histogram");
  appendHistogram(out, "turnout_upstream_duration_seconds", upstream_by_route);
  uint64_t active = 0, connections = 0, in = 0, sent = 0, upstream = 0;
  std::array<uint64_t, kRetryReasonCount> retries{};
  for (const WorkerMetrics* worker : workers) {
    active += worker->requests_active.get();
    connections += worker->connections_active.get();
    in += worker->bytes_in.get();
    sent += worker->bytes_out.get();
    upstream += worker->upstream_connections_active.get();
    for (size_t r = 0; r < kRetryReasonCount; ++r) retries[r] += worker->retries[r].get();
  }
  appendMetricHeader(out, "turnout_requests_active", "Requests in flight.", "gauge");
  out.append("turnout_requests_active ").append(std::to_string(active)).append("\n");
  appendMetricHeader(out, "turnout_client_connections_active", "Client connections open.", "gauge");
  out.append("turnout_client_connections_active ").append(std::to_string(connections)).append("\n");
  appendMetricHeader(out, "turnout_upstream_connections_active",
                     "Upstream connections open, in use or idle in a pool.", "gauge");
  out.append("turnout_upstream_connections_active ").append(std::to_string(upstream)).append("\n");
  appendMetricHeader(out, "turnout_retries_total", "Requests sent again to an upstream, by reason.",
                     "counter");
  for (size_t r = 0; r < kRetryReasonCount; ++r) {
    out.append("turnout_retries_total");
    appendLabels(out, {{"reason", retryReasonName(static_cast<RetryReason>(r))}});
    out.append(" ").append(std::to_string(retries[r])).append("\n");
  }
  appendMetricHeader(out, "turnout_received_bytes_total", "Request bytes read from clients.",
                     "counter");
  out.append("turnout_received_bytes_total ").append(std::to_string(in)).append("\n");
  appendMetricHeader(out, "turnout_sent_bytes_total", "Response bytes written to clients.",
                     "counter");
  out.append("turnout_sent_bytes_total ").append(std::to_string(sent)).append("\n");
}

}  // namespace turnout::observe
