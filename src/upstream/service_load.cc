#include "upstream/service_load.h"

#include <map>
#include <mutex>

namespace turnout::upstream {
namespace {

struct Registry {
  std::mutex mutex;
  // By name, then worker count: a process runs one count; tests compile with several.
  std::map<std::pair<std::string, uint32_t>, std::shared_ptr<ServiceLoad>> by_name;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

int64_t asSigned(uint64_t wrapped) { return static_cast<int64_t>(wrapped); }

}  // namespace

std::string_view limitName(Limit limit) {
  switch (limit) {
    case Limit::kRequests:
      return "max_requests";
    case Limit::kPending:
      return "max_pending";
    case Limit::kConnections:
      return "max_connections";
    case Limit::kRetries:
      return "retry_budget";
  }
  return "";
}

ServiceLoad::ServiceLoad(uint32_t worker_count)
    : worker_count_(worker_count == 0 ? 1 : worker_count),
      workers_(std::make_unique<WorkerServiceLoad[]>(worker_count_)) {}

uint64_t ServiceLoad::current(Limit limit) const {
  uint64_t sum = 0;  // gauges go down by adding 2^64 - 1: the sum wraps back to the count
  for (uint32_t w = 0; w < worker_count_; ++w) {
    const WorkerServiceLoad& load = workers_[w];
    sum += limit == Limit::kRequests      ? load.requests.get()
           : limit == Limit::kPending     ? load.pending.get()
           : limit == Limit::kConnections ? load.connections.get()
                                          : load.retries.get();
  }
  return asSigned(sum) < 0 ? 0 : sum;  // a worker's decrement seen before its increment
}

uint64_t ServiceLoad::overflows(Limit limit) const {
  uint64_t sum = 0;
  for (uint32_t w = 0; w < worker_count_; ++w) {
    sum += workers_[w].overflows[static_cast<size_t>(limit)].get();
  }
  return sum;
}

std::shared_ptr<ServiceLoad> serviceLoad(const std::string& name, uint32_t worker_count) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto& slot = r.by_name[{name, worker_count}];
  if (!slot) slot = std::make_shared<ServiceLoad>(worker_count);
  return slot;
}

void forEachServiceLoad(const std::function<void(const std::string&, const ServiceLoad&)>& visit) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& [key, load] : r.by_name) visit(key.first, *load);
}

}  // namespace turnout::upstream
