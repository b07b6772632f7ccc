// The circuit breakers of an exchange's service: whether it may go upstream at all
// (max_requests), whether it may open a new connection (max_connections, max_pending) and
// whether it may retry (the retry budget).
#include "proxy/client_connection.h"
#include "proxy/exchange.h"

namespace turnout::proxy {

// max_requests: requests in flight to the service, over every worker.
bool Exchange::admitToService() {
  const uint32_t max = service_compiled_->source.circuit_breakers.max_requests;
  if (service_compiled_->load->current(upstream::Limit::kRequests) >= max) {
    overflow(upstream::Limit::kRequests, max);
    return false;
  }
  service_load_ = &service_compiled_->load->worker(worker_.index());
  observe::gaugeAdd(service_load_->requests, 1);
  counted_request_load_ = true;
  return true;
}

// max_connections and max_pending apply when a request needs a new connection; a pooled one
// is always taken.
bool Exchange::admitNewConnection() {
  const config::CircuitBreakers& limits = service_compiled_->source.circuit_breakers;
  const upstream::ServiceLoad& load = *service_compiled_->load;
  if (load.current(upstream::Limit::kConnections) >= limits.max_connections) {
    overflow(upstream::Limit::kConnections, limits.max_connections);
    return false;
  }
  if (load.current(upstream::Limit::kPending) >= limits.max_pending) {
    overflow(upstream::Limit::kPending, limits.max_pending);
    return false;
  }
  return true;
}

// A 503 that names the limit (Envoy says x-envoy-overloaded), counted by limit.
void Exchange::overflow(upstream::Limit limit, uint32_t max) {
  upstream::WorkerServiceLoad& load = service_compiled_->load->worker(worker_.index());
  load.overflows[static_cast<size_t>(limit)].add();
  overflow_line_ = "X-Turnout-Overflow: " + std::string(upstream::limitName(limit)) + "\r\n";
  failLocal(503, "service '" + service_compiled_->source.name + "' is at its " +
                     std::string(upstream::limitName(limit)) + " limit (" + std::to_string(max) +
                     ")");
}

// The retry budget is checked at an exchange's first retry; from then on it counts as one
// retry in flight until it ends, whatever its further attempts. Over budget, the request is
// not failed: the attempt it has is what the client gets.
bool Exchange::admitRetry() {
  if (counted_retry_) return true;
  upstream::ServiceLoad& load = *service_compiled_->load;
  if (!route::retryBudgetAllows(load.current(upstream::Limit::kRetries),
                                load.current(upstream::Limit::kRequests),
                                service_compiled_->source.circuit_breakers)) {
    service_load_->overflows[static_cast<size_t>(upstream::Limit::kRetries)].add();
    return false;
  }
  observe::gaugeAdd(service_load_->retries, 1);
  counted_retry_ = true;
  return true;
}

// The exchange no longer waits for a new connection (max_pending).
void Exchange::stopPending() {
  if (!counted_pending_) return;
  observe::gaugeAdd(service_load_->pending, -1);
  counted_pending_ = false;
}

void Exchange::releaseServiceLoad() {
  if (counted_request_load_) observe::gaugeAdd(service_load_->requests, -1);
  counted_request_load_ = false;
  if (counted_retry_) observe::gaugeAdd(service_load_->retries, -1);
  counted_retry_ = false;
}

}  // namespace turnout::proxy
