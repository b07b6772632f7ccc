// The last phase of an exchange and what it reports on the way: its metric series, its access
// log line, each upstream attempt's outcome (outlier detection) and latency (the ewma
// balancer).
#include "core/timer.h"
#include "health/health_service.h"
#include "observe/access_log.h"
#include "proxy/client_connection.h"
#include "proxy/exchange.h"
#include "proxy/fault_counters.h"

namespace turnout::proxy {

// The ewma balancer learns from each attempt at its endpoints: the delay to the response head,
// or a failure before it (an attempt that went out and got no head), counted as a slow answer
// so the endpoint is avoided for a while.
void Exchange::observeUpstreamLatency(bool failed) {
  if (endpoint_ == nullptr || endpoints_ == nullptr || endpoints_->lb() != route::LbPolicy::kEwma) {
    return;
  }
  if (failed && (upstream_us_ >= 0 || upstream_sent_us_ == 0)) return;
  route::PeakEwma& latency = worker_.latencyByEndpoint();
  const uint64_t now_ms = worker_.loop().nowMs();
  if (failed) {
    latency.observeFailure(endpoint_->id, core::monotonicMicros() - upstream_sent_us_, now_ms);
  } else {
    latency.observe(endpoint_->id, static_cast<uint64_t>(upstream_us_), now_ms);
  }
}

// Successes cost a bounds check in the worker's vector; failures look up the service's
// thresholds and, past one, ask the health thread for an ejection (rare, so it may lock).
void Exchange::reportOutcome(health::UpstreamOutcome outcome) {
  if (outcome_reported_ || endpoint_ == nullptr) return;
  outcome_reported_ = true;
  health::OutlierCounts& counts = worker_.outlierCounts();
  if (outcome == health::UpstreamOutcome::kSuccess) return counts.recordSuccess(endpoint_->id);
  const route::CompiledService* service = snapshot_->service(*service_);
  if (service == nullptr) return;
  const auto reason = counts.recordFailure(endpoint_->id, outcome, service->source.outlier);
  health::HealthService* health = worker_.settings().health;
  if (reason && health != nullptr) health->requestEjection(*service_, endpoint_->id, *reason);
}

void Exchange::logExchange() {
  if (status_ < 0) status_ = 499;  // the worker stopped with the request unanswered
  const uint64_t duration_us = core::monotonicMicros() - started_us_;
  observe::WorkerMetrics& metrics = worker_.metrics();
  observe::gaugeAdd(metrics.requests_active, -1);
  metrics.bytes_in.add(bytes_in_);
  metrics.bytes_out.add(bytes_out_);
  if (observe::RouteSeries* series = worker_.seriesOf(route_, target_)) {
    series->codes[observe::codeSlot(status_)].add();
    series->request.observe(duration_us);
    if (upstream_us_ >= 0) series->upstream.observe(static_cast<uint64_t>(upstream_us_));
  }
  observe::AccessLog* log = worker_.settings().access_log;
  if (log != nullptr && log->sampled(worker_.index(), status_)) writeAccessLog(duration_us);
}

void Exchange::writeAccessLog(uint64_t duration_us) {
  const char* fault = pending_drop_                ? (fault_delayed_ ? "delay+drop" : "drop")
                      : pending_abort_status_ != 0 ? (fault_delayed_ ? "delay+abort" : "abort")
                      : fault_delayed_             ? "delay"
                                                   : "";
  observe::AccessRecord record;
  record.timestamp_ms = observe::wallClockMsAgo(duration_us);
  record.request_id = request_id_;
  record.client = client_.peerAddress();
  record.method = method_;
  record.path = log_path_;
  record.host = log_host_;
  record.status = status_;
  record.bytes_in = bytes_in_;
  record.bytes_out = bytes_out_;
  record.duration_us = duration_us;
  record.upstream_us = upstream_us_;
  if (route_ != nullptr) record.route = route_->source.id;
  record.src = worker_.settings().identity;
  if (target_ != nullptr) {
    record.service = target_->service;
    record.version = target_->version;
  }
  if (endpoint_ != nullptr) record.upstream = endpoint_->address;
  record.fault = fault;
  record.gremlin_header_name = fault_trigger_name_;
  record.gremlin_header_val = fault_trigger_value_;
  record.retries = rule_retries_ + (stale_retried_ ? 1 : 0);
  worker_.settings().access_log->write(worker_.index(), record);
}

}  // namespace turnout::proxy
