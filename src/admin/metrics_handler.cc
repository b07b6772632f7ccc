// GET /metrics: Prometheus text exposition (format 0.0.4). It carries the fault-injection
// counters for now; the full metric set is issue 7's.
#include "admin/handlers.h"
#include "admin/metrics_endpoint.h"
#include "observe/metrics.h"
#include "proxy/fault_counters.h"

namespace turnout::admin::handlers {

AdminResponse metrics(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") {
    AdminResponse refusal;
    refusal.status = 405;
    refusal.content_type = "text/plain; charset=utf-8";
    refusal.body = "method not allowed\n";
    refusal.headers.emplace_back("Allow", "GET, HEAD");
    return refusal;
  }
  const proxy::FaultCounters& faults = proxy::faultCounters();
  std::string out;
  observe::appendMetricHeader(out, "turnout_faults_injected_total",
                              "Requests that got an injected fault, by kind.", "counter");
  out += "turnout_faults_injected_total{kind=\"delay\"} " + std::to_string(faults.delays.load()) +
         "\n";
  out += "turnout_faults_injected_total{kind=\"abort\"} " + std::to_string(faults.aborts.load()) +
         "\n";
  out +=
      "turnout_faults_injected_total{kind=\"drop\"} " + std::to_string(faults.drops.load()) + "\n";
  observe::appendMetricHeader(
      out, "turnout_faults_overflow_total",
      "Requests that passed without faults because max_active_faults delays were running.",
      "counter");
  out += "turnout_faults_overflow_total " + std::to_string(faults.overflow.load()) + "\n";
  observe::appendMetricHeader(out, "turnout_faults_active", "Injected delays running now.",
                              "gauge");
  out += "turnout_faults_active " + std::to_string(faults.active_delays.load()) + "\n";
  observe::appendMetricHeader(out, "turnout_config_revision",
                              "Revision of the running configuration.", "gauge");
  out += "turnout_config_revision " + std::to_string(ctx.control.revision()) + "\n";
  AdminResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = std::move(out);
  return response;
}

}  // namespace turnout::admin::handlers

namespace turnout::admin {

AdminResponse serveMetricsOnly(control::ControlPlane& control, const AdminRequest& request) {
  ApiOptions no_options;
  handlers::Context ctx{request, control, no_options};
  return handlers::metrics(ctx);
}

}  // namespace turnout::admin
