// Active health checks and passive outlier ejection, on one thread with its own event loop.
//
// update() hands it every published snapshot; it runs one check per (endpoint id, check
// settings, Host), however many services and workers use that endpoint, and follows endpoint
// changes without a restart. Workers count consecutive failures themselves
// (health/outlier_counts.h) and call requestEjection() when a threshold is reached; this thread
// decides (max_ejection_percent), ejects, and lets the endpoint back in after its ejection time
// or at its next passing active check. Everything it concludes is written to EndpointStates
// (health/endpoint_states.h), bumping the generation on every change of availability; the data
// path only reads that.
//
// Two services checking the same endpoint differently run two checks, and the endpoint is
// failed while any of them says failed (the state is per endpoint, so every service then avoids
// it). An endpoint with a check starts healthy (HAProxy's servers start up too; Envoy starts
// hosts failed until their first check passes, except at warm-up): a restart or an endpoint
// added through the API takes traffic at once, and a dead one is found within interval x
// unhealthy, or sooner by outlier ejection. A new check on an endpoint that is failed right
// now (its settings changed) starts failed, so editing a check does not revive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "health/endpoint_states.h"
#include "health/outlier_counts.h"
#include "route/snapshot.h"

namespace turnout::health {

// What GET /v1/status says of one endpoint.
struct EndpointHealth {
  enum class Kind : uint8_t {
    kUnchecked,  // no active check and never ejected
    kHealthy,
    kFailed,   // its active check says down
    kEjected,  // outlier detection took it out for now
  };
  Kind kind = Kind::kUnchecked;
  uint64_t ejected_for_ms = 0;  // kEjected: until it is back
  uint32_t times_ejected = 0;
};

// "unchecked", "healthy", "failed", "ejected".
const char* healthLabel(EndpointHealth::Kind kind);

class HealthService {
 public:
  explicit HealthService(EndpointStates& states = endpointStates());
  ~HealthService();  // stops
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // Starts the thread. Before start() (and after stop()) updates and requests just wait.
  void start();
  void stop();

  // Thread-safe: the configuration the data plane runs now. Updates that arrive faster than the
  // thread takes them are coalesced (the latest wins).
  void update(std::shared_ptr<const route::Snapshot> snapshot);
  // Thread-safe, for workers: consecutive failures of endpoint `id` of `service` reached the
  // threshold of `reason`. Rare by construction; takes a mutex and wakes the health thread.
  void requestEjection(const std::string& service, uint32_t endpoint_id, OutlierReason reason);

  // Any thread (the admin API).
  EndpointHealth endpointHealth(uint32_t endpoint_id) const;
  // Appends turnout_endpoint_healthy, turnout_health_checks_total,
  // turnout_outlier_ejections_total and turnout_endpoints_ejected for the services of
  // `snapshot` (label sets bounded by the configuration).
  void renderMetrics(const route::Snapshot& snapshot, std::string& out) const;
  // The checks running now (one per endpoint and settings), once the last update is applied.
  size_t checkCount() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace turnout::health
