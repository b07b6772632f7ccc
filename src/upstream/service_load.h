// How loaded each service is, for its circuit breakers (Envoy's max_connections, max_pending
// and max_requests). Each worker writes only its own slot (single-writer counters: a relaxed
// load and store, no read-modify-write); a check sums every worker's slot. A sum may miss the
// last request or two of another worker, which a limit in the hundreds does not notice, and
// the data path stays free of shared writes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "observe/metrics.h"

namespace turnout::upstream {

// The limits a request can overflow, in the order they are checked. kRetries is the retry
// budget: overflowing it does not fail the request, it only ends its retries.
enum class Limit : uint8_t { kRequests, kPending, kConnections, kRetries };
inline constexpr size_t kLimitCount = 4;
// "max_requests", "max_pending", "max_connections", "retry_budget"
std::string_view limitName(Limit limit);

struct alignas(64) WorkerServiceLoad {
  observe::ShardCounter requests;     // gauge: requests in flight
  observe::ShardCounter pending;      // gauge: requests waiting for a new connection
  observe::ShardCounter connections;  // gauge: upstream connections this service opened
  observe::ShardCounter retries;      // gauge: requests in flight that were retried
  std::array<observe::ShardCounter, kLimitCount> overflows;  // by Limit
};

class ServiceLoad {
 public:
  explicit ServiceLoad(uint32_t worker_count);
  WorkerServiceLoad& worker(uint32_t index) { return workers_[index]; }

  // Sums over the workers (any thread).
  uint64_t current(Limit limit) const;
  uint64_t overflows(Limit limit) const;

 private:
  uint32_t worker_count_;
  std::unique_ptr<WorkerServiceLoad[]> workers_;
};

// The load of service `name`: one object per name for the life of the process, so counts
// survive recompiles and a service deleted and created again. For the control thread (and
// tests); workers reach it through their compiled service.
std::shared_ptr<ServiceLoad> serviceLoad(const std::string& name, uint32_t worker_count);
// Every service's load, by name (the metrics scrape).
void forEachServiceLoad(const std::function<void(const std::string&, const ServiceLoad&)>& visit);

}  // namespace turnout::upstream
