// The admin REST API v1 (DESIGN §1): resources over the control plane. Every answer carries
// ETag: "<revision>"; writes honour If-Match; errors are {"error":{"code","message","field"}}.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "control/control_plane.h"
#include "health/health_service.h"
#include "observe/access_log.h"
#include "observe/metrics.h"

namespace turnout::admin {

struct ApiOptions {
  std::string token;               // required as "Authorization: Bearer <token>" when set
  std::function<bool()> ready;     // /readyz: store loaded, published, listeners bound
  std::function<bool()> draining;  // /readyz answers 503 while draining
  uint32_t workers = 0;            // /v1/status
  // Each worker's metric shard, merged by /metrics and /v1/stats at read time.
  std::vector<const observe::WorkerMetrics*> worker_metrics;
  const observe::AccessLog* access_log = nullptr;  // its written/dropped counts
  // Endpoint health for /v1/status and /metrics (nullptr: every endpoint is "unchecked").
  const health::HealthService* health = nullptr;
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
};

class AdminApi {
 public:
  AdminApi(control::ControlPlane& control, ApiOptions options);
  AdminResponse handle(const AdminRequest& request);

 private:
  AdminResponse dispatch(const AdminRequest& request);

  control::ControlPlane& control_;
  ApiOptions options_;
};

}  // namespace turnout::admin
