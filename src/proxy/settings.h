// Data-plane knobs with production defaults (anchors §11; nginx/Envoy where they agree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/message.h"
#include "observe/access_log.h"
#include "upstream/pool.h"

namespace turnout::health {
class HealthService;
}  // namespace turnout::health

namespace turnout::proxy {

struct ProxySettings {
  http::Limits limits;                     // 64 KiB head, 100 headers, 8 KiB target
  uint32_t header_timeout_ms = 10000;      // a request head must arrive within this
  uint32_t idle_timeout_ms = 60000;        // keep-alive client connection with no request
  uint32_t body_timeout_ms = 60000;        // no progress on a request or response body
  uint32_t connect_timeout_ms = 5000;      // TCP connect to an upstream
  size_t max_buffered_bytes = 256 * 1024;  // per direction, before reading pauses
  upstream::PoolSettings pool;
  bool dry_run = false;  // paralarva -d: answer 200 without an upstream
  // Concurrent injected delays per process (Envoy's max_active_faults); past it a request
  // gets no fault at all, and faultCounters().overflow says so.
  uint32_t max_active_faults = 1000;
  // Largest request body accepted (nginx's client_max_body_size); 0 = no limit. A larger
  // Content-Length is a 413 before anything goes upstream. Chunked bodies are not counted
  // yet (they stream as they come).
  uint64_t max_request_body_bytes = 0;
  // The configuration's listener name of each listen address, in bind order ("" when the
  // address is not a configured listener): whose error pages a connection gets.
  std::vector<std::string> listener_names;
  // --access-log: where each worker queues its lines (nullptr = no access log). Outlives the
  // workers.
  observe::AccessLog* access_log = nullptr;
  std::string identity;  // this proxy's identity as configured, the access log's `src`
  // Where workers send outlier ejection requests (nullptr = none). Outlives the workers.
  health::HealthService* health = nullptr;
};

}  // namespace turnout::proxy
