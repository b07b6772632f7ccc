// Passive outlier ejection, the health thread's half: deciding on the workers' requests,
// ejecting, and letting endpoints back in.
#include <algorithm>

#include "core/log.h"
#include "health/ejection_policy.h"
#include "health/health_service_impl.h"

namespace turnout::health {

void HealthService::Impl::takeEjectionRequests() {
  std::vector<EjectionRequest> requests;
  {
    std::lock_guard lock(requests_mutex_);
    requests.swap(requests_);
  }
  for (const EjectionRequest& request : requests) eject(request);
}

// Ejects the endpoint unless it is out already, it left the service, or the service has
// max_ejection_percent of its endpoints out already (one may always go).
void HealthService::Impl::eject(const EjectionRequest& request) {
  if (current_ == nullptr) return;
  const route::CompiledService* service = current_->service(request.service);
  if (service == nullptr) return;
  const auto& endpoints = service->all->endpoints();
  auto endpoint = std::find_if(endpoints.begin(), endpoints.end(), [&](const route::Endpoint& e) {
    return e.id == request.endpoint_id;
  });
  if (endpoint == endpoints.end()) return;
  const EndpointState* known = states_.find(request.endpoint_id);
  if (known != nullptr && known->ejected.load(std::memory_order_relaxed)) return;
  const config::Outlier& outlier = service->source.outlier;
  if (!mayEject(ejectedCount(*service->all), endpoints.size(), outlier.max_ejection_percent)) {
    if (core::logEnabled(core::LogLevel::kDebug)) {
      core::logLine(core::LogLevel::kDebug, "outlier: " + endpoint->address + " of service " +
                                                request.service +
                                                " stays in: max_ejection_percent reached");
    }
    return;
  }
  const uint64_t now = loop_.nowMs();
  EndpointState& state = states_.ensure(request.endpoint_id, now);
  auto returned = returned_at_ms_.find(request.endpoint_id);
  const uint64_t quiet_ms = returned == returned_at_ms_.end() ? 0 : now - returned->second;
  const uint32_t times =
      decayedTimesEjected(state.times_ejected.load(std::memory_order_relaxed), quiet_ms) + 1;
  const uint64_t duration_ms = ejectionDurationMs(outlier, times);
  state.times_ejected.store(times, std::memory_order_relaxed);
  state.ejected.store(true, std::memory_order_relaxed);
  states_.bumpGeneration();

  const uint32_t id = request.endpoint_id;
  Ejection& ejection = ejections_[id];
  ejection.address = endpoint->address;
  ejection.timer = std::make_unique<core::Timer>([this, id] { unEject(id, "ejection time over"); });
  ejection.timer->arm(loop_.timers(), duration_ms);
  {
    std::lock_guard lock(view_mutex_);
    ejected_until_ms_[id] = now + duration_ms;
  }
  countersFor(request.service)->ejections[static_cast<int>(request.reason)].add();
  core::logLine(core::LogLevel::kInfo, "outlier: ejected " + endpoint->address + " of service " +
                                           request.service + " for " + std::to_string(duration_ms) +
                                           " ms (" + std::string(reasonLabel(request.reason)) +
                                           ", ejection " + std::to_string(times) + ")");
}

void HealthService::Impl::unEject(uint32_t id, const char* why) {
  auto it = ejections_.find(id);
  if (it == ejections_.end()) return;
  const std::string address = std::move(it->second.address);
  // The timer may be the one running this: it is destroyed once the loop is done with it.
  it->second.timer->cancel();
  loop_.defer([timer = std::shared_ptr<core::Timer>(std::move(it->second.timer))] {});
  ejections_.erase(it);
  {
    std::lock_guard lock(view_mutex_);
    ejected_until_ms_.erase(id);
  }
  returned_at_ms_[id] = loop_.nowMs();
  EndpointState& state = states_.ensure(id, loop_.nowMs());
  state.ejected.store(false, std::memory_order_relaxed);
  states_.bumpGeneration();
  core::logLine(core::LogLevel::kInfo, "outlier: " + address + " is back (" + why + ")");
}

}  // namespace turnout::health
