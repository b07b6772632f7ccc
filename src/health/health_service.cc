// The thread, the thread-safe entry points, and what the admin API reads. The checks are in
// health_checks.cc, the ejections in ejections.cc.
#include "health/health_service.h"

#include <pthread.h>
#include <time.h>

#include "health/health_service_impl.h"

namespace turnout::health {

const char* healthLabel(EndpointHealth::Kind kind) {
  switch (kind) {
    case EndpointHealth::Kind::kHealthy:
      return "healthy";
    case EndpointHealth::Kind::kFailed:
      return "failed";
    case EndpointHealth::Kind::kEjected:
      return "ejected";
    case EndpointHealth::Kind::kUnchecked:
      break;
  }
  return "unchecked";
}

uint64_t coarseNowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// ---- HealthService: the public face --------------------------------------------------------

HealthService::HealthService(EndpointStates& states) : impl_(std::make_unique<Impl>(states)) {}
HealthService::~HealthService() { impl_->stop(); }
void HealthService::start() { impl_->start(); }
void HealthService::stop() { impl_->stop(); }
void HealthService::update(std::shared_ptr<const route::Snapshot> snapshot) {
  impl_->update(std::move(snapshot));
}
void HealthService::requestEjection(const std::string& service, uint32_t endpoint_id,
                                    OutlierReason reason) {
  impl_->requestEjection(service, endpoint_id, reason);
}
EndpointHealth HealthService::endpointHealth(uint32_t endpoint_id) const {
  return impl_->endpointHealth(endpoint_id);
}
void HealthService::renderMetrics(const route::Snapshot& snapshot, std::string& out) const {
  impl_->renderMetrics(snapshot, out);
}
size_t HealthService::checkCount() const { return impl_->checkCount(); }

// ---- The thread ----------------------------------------------------------------------------

HealthService::Impl::Impl(EndpointStates& states) : states_(states), rng_(std::random_device{}()) {}

HealthService::Impl::~Impl() { stop(); }

void HealthService::Impl::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { loop_.run(); });
  // Named so that its CPU can be read apart from the workers' (bench/health, top -H).
  pthread_setname_np(thread_.native_handle(), "turnout-health");
}

void HealthService::Impl::stop() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
}

void HealthService::Impl::update(std::shared_ptr<const route::Snapshot> snapshot) {
  bool wake = false;
  {
    std::lock_guard lock(pending_mutex_);
    wake = pending_ == nullptr;  // otherwise a wake-up is on its way and takes the newest
    pending_ = std::move(snapshot);
  }
  if (wake) loop_.post([this] { applyPending(); });
}

void HealthService::Impl::applyPending() {
  std::shared_ptr<const route::Snapshot> snapshot;
  {
    std::lock_guard lock(pending_mutex_);
    snapshot = std::move(pending_);
    pending_ = nullptr;
  }
  if (snapshot) apply(std::move(snapshot));
}

void HealthService::Impl::requestEjection(const std::string& service, uint32_t endpoint_id,
                                          OutlierReason reason) {
  bool wake = false;
  {
    std::lock_guard lock(requests_mutex_);
    wake = requests_.empty();
    requests_.push_back({service, endpoint_id, reason});
  }
  if (wake) loop_.post([this] { takeEjectionRequests(); });
}

// ---- What the admin API reads --------------------------------------------------------------

EndpointHealth HealthService::Impl::endpointHealth(uint32_t endpoint_id) const {
  EndpointHealth health;
  const EndpointState* state = states_.find(endpoint_id);
  const bool ejected = state != nullptr && state->ejected.load(std::memory_order_relaxed);
  const bool failed = state != nullptr && state->check_failed.load(std::memory_order_relaxed);
  if (state != nullptr) health.times_ejected = state->times_ejected.load(std::memory_order_relaxed);
  std::lock_guard lock(view_mutex_);
  if (ejected) {
    health.kind = EndpointHealth::Kind::kEjected;
    auto it = ejected_until_ms_.find(endpoint_id);
    const uint64_t now = coarseNowMs();
    if (it != ejected_until_ms_.end() && it->second > now) health.ejected_for_ms = it->second - now;
  } else if (failed) {
    health.kind = EndpointHealth::Kind::kFailed;
  } else if (checked_ids_.count(endpoint_id) > 0 || health.times_ejected > 0) {
    health.kind = EndpointHealth::Kind::kHealthy;
  }
  return health;
}

size_t HealthService::Impl::checkCount() const {
  std::lock_guard lock(view_mutex_);
  return check_count_;
}

namespace {

void appendSample(std::string& out, std::string_view name, std::string_view labels,
                  uint64_t value) {
  out.append(name).append("{").append(labels).append("} ").append(std::to_string(value));
  out += '\n';
}

std::string serviceLabel(std::string_view service) {
  std::string labels;
  observe::appendLabel(labels, "service", service, true);
  return labels;
}

}  // namespace

// Series exist only for what the configuration makes bounded: endpoints that are checked or
// were ejected, services with a check, services that had an ejection.
void HealthService::Impl::renderMetrics(const route::Snapshot& snapshot, std::string& out) const {
  std::lock_guard lock(view_mutex_);
  observe::appendMetricHeader(out, "turnout_endpoint_healthy",
                              "1 when a checked or once-ejected endpoint may take traffic now.",
                              "gauge");
  for (const auto& service : snapshot.services()) {
    const std::string service_label = serviceLabel(service->source.name);
    for (const route::Endpoint& endpoint : service->all->endpoints()) {
      const EndpointState* state = states_.find(endpoint.id);
      const bool ejected_once =
          state != nullptr && state->times_ejected.load(std::memory_order_relaxed) > 0;
      if (!ejected_once && checked_ids_.count(endpoint.id) == 0) continue;
      std::string labels = service_label;
      observe::appendLabel(labels, "address", endpoint.address, false);
      appendSample(out, "turnout_endpoint_healthy", labels, isAvailable(states_, endpoint.id));
    }
  }
  observe::appendMetricHeader(out, "turnout_health_checks_total",
                              "Active health checks of a service's endpoints, by result.",
                              "counter");
  for (const auto& [name, counters] : counters_) {
    const route::CompiledService* service = snapshot.service(name);
    if (service == nullptr || !service->source.health_check.enabled()) continue;
    const std::string labels = serviceLabel(name);
    appendSample(out, "turnout_health_checks_total", labels + ",result=\"success\"",
                 counters->checks_passed.get());
    appendSample(out, "turnout_health_checks_total", labels + ",result=\"failure\"",
                 counters->checks_failed.get());
  }
  observe::appendMetricHeader(out, "turnout_outlier_ejections_total",
                              "Endpoints ejected by outlier detection, by the trigger that fired.",
                              "counter");
  for (const auto& [name, counters] : counters_) {
    const std::string labels = serviceLabel(name);
    for (int reason = 0; reason < kOutlierReasons; ++reason) {
      std::string with_reason = labels;
      observe::appendLabel(with_reason, "reason", reasonLabel(static_cast<OutlierReason>(reason)),
                           false);
      appendSample(out, "turnout_outlier_ejections_total", with_reason,
                   counters->ejections[reason].get());
    }
  }
  observe::appendMetricHeader(out, "turnout_endpoints_ejected",
                              "A service's endpoints ejected by outlier detection now.", "gauge");
  for (const auto& [name, counters] : counters_) {
    const route::CompiledService* service = snapshot.service(name);
    if (service == nullptr) continue;
    appendSample(out, "turnout_endpoints_ejected", serviceLabel(name), ejectedCount(*service->all));
  }
}

size_t HealthService::Impl::ejectedCount(const route::EndpointSet& endpoints) const {
  size_t ejected = 0;
  for (const route::Endpoint& endpoint : endpoints.endpoints()) {
    const EndpointState* state = states_.find(endpoint.id);
    if (state != nullptr && state->ejected.load(std::memory_order_relaxed)) ++ejected;
  }
  return ejected;
}

}  // namespace turnout::health
