// GET /metrics: Prometheus text exposition (format 0.0.4). Request counters come from the
// workers' shards, merged here: a scrape reads them without stopping or locking any worker.
#include "admin/handlers.h"
#include "admin/metrics_endpoint.h"
#include "observe/metrics.h"
#include "observe/process_metrics.h"
#include "proxy/fault_counters.h"
#include "upstream/service_load.h"

namespace turnout::admin::handlers {
namespace {

void appendSample(std::string& out, std::string_view name_and_labels, uint64_t value) {
  out.append(name_and_labels).append(" ").append(std::to_string(value)).append("\n");
}

void renderFaultMetrics(std::string& out) {
  const proxy::FaultCounters& faults = proxy::faultCounters();
  observe::appendMetricHeader(out, "turnout_faults_injected_total",
                              "Requests that got an injected fault, by kind.", "counter");
  appendSample(out, "turnout_faults_injected_total{kind=\"delay\"}", faults.delays.load());
  appendSample(out, "turnout_faults_injected_total{kind=\"abort\"}", faults.aborts.load());
  appendSample(out, "turnout_faults_injected_total{kind=\"drop\"}", faults.drops.load());
  observe::appendMetricHeader(
      out, "turnout_faults_overflow_total",
      "Requests that passed without faults because max_active_faults delays were running.",
      "counter");
  appendSample(out, "turnout_faults_overflow_total", faults.overflow.load());
  observe::appendMetricHeader(out, "turnout_faults_active", "Injected delays running now.",
                              "gauge");
  appendSample(out, "turnout_faults_active", faults.active_delays.load());
}

void renderConfigMetrics(const control::ControlPlane& control, std::string& out) {
  const control::ApplyStats& stats = control.stats();
  observe::appendMetricHeader(out, "turnout_config_revision",
                              "Revision of the running configuration.", "gauge");
  appendSample(out, "turnout_config_revision", control.revision());
  observe::appendMetricHeader(out, "turnout_config_changes_total",
                              "Configuration changes asked for, by outcome.", "counter");
  appendSample(out, "turnout_config_changes_total{result=\"applied\"}", stats.applied.get());
  appendSample(out, "turnout_config_changes_total{result=\"rejected\"}", stats.rejected.load());
  observe::appendMetricHeader(
      out, "turnout_config_apply_failures_total",
      "Valid changes that failed to apply: the store refused them, or a worker took over 1 s "
      "to run them.",
      "counter");
  appendSample(out, "turnout_config_apply_failures_total{reason=\"store\"}",
               stats.store_failures.get());
  appendSample(out, "turnout_config_apply_failures_total{reason=\"propagation\"}",
               stats.propagation_failures.get());
  observe::appendMetricHeader(out, "turnout_config_dns_refreshes_total",
                              "Republications because a backend's DNS answer changed.", "counter");
  appendSample(out, "turnout_config_dns_refreshes_total", stats.name_refreshes.get());
  observe::renderHistogram(out, "turnout_config_apply_duration_seconds",
                           "Time from a change's arrival to every worker running it.",
                           stats.duration);
}

// Per service: what its circuit breakers watch, and how often they tripped.
void renderServiceLoadMetrics(std::string& out) {
  std::string active, overflows;
  const upstream::Limit kLimits[] = {upstream::Limit::kRequests, upstream::Limit::kPending,
                                     upstream::Limit::kConnections, upstream::Limit::kRetries};
  upstream::forEachServiceLoad([&](const std::string& name, const upstream::ServiceLoad& load) {
    for (upstream::Limit limit : kLimits) {
      std::string labels;
      observe::appendLabels(labels, {{"service", name}, {"limit", upstream::limitName(limit)}});
      appendSample(active, "turnout_service_load" + labels, load.current(limit));
      appendSample(overflows, "turnout_circuit_breaker_overflows_total" + labels,
                   load.overflows(limit));
    }
  });
  observe::appendMetricHeader(out, "turnout_service_load",
                              "What each circuit breaker of a service counts now, by limit.",
                              "gauge");
  out += active;
  observe::appendMetricHeader(
      out, "turnout_circuit_breaker_overflows_total",
      "Requests answered 503 because a service was at a limit (retry_budget: "
      "retries not made because the budget was spent).",
      "counter");
  out += overflows;
}

void renderAccessLogMetrics(const observe::AccessLog* log, std::string& out) {
  if (log == nullptr) return;
  observe::appendMetricHeader(out, "turnout_access_log_lines_total",
                              "Access log lines, written or dropped because the sink fell behind.",
                              "counter");
  appendSample(out, "turnout_access_log_lines_total{result=\"written\"}", log->written());
  appendSample(out, "turnout_access_log_lines_total{result=\"dropped\"}", log->dropped());
}

}  // namespace

AdminResponse metrics(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") {
    AdminResponse refusal;
    refusal.status = 405;
    refusal.content_type = "text/plain; charset=utf-8";
    refusal.body = "method not allowed\n";
    refusal.headers.emplace_back("Allow", "GET, HEAD");
    return refusal;
  }
  std::string out;
  out.reserve(16 * 1024);
  observe::renderRequestMetrics(ctx.options.worker_metrics, out);
  renderFaultMetrics(out);
  renderConfigMetrics(ctx.control, out);
  renderServiceLoadMetrics(out);
  renderAccessLogMetrics(ctx.options.access_log, out);
  if (ctx.options.health != nullptr) ctx.options.health->renderMetrics(*ctx.control.current(), out);
  observe::renderProcessMetrics(out);
  AdminResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = std::move(out);
  return response;
}

}  // namespace turnout::admin::handlers

namespace turnout::admin {

AdminResponse serveMetricsOnly(control::ControlPlane& control, const ApiOptions& options,
                               const AdminRequest& request) {
  handlers::Context ctx{request, control, options};
  return handlers::metrics(ctx);
}

}  // namespace turnout::admin
