#include <mutex>
#include <unordered_map>

#include "route/snapshot.h"

namespace turnout::route {

// Ids start at 1 so that 0 stays "not interned"; they are dense, so runtime state can be a
// vector indexed by id. Only the control thread interns, so a mutex costs nothing that matters.
uint32_t endpointId(const std::string& address) {
  static std::mutex mutex;
  static std::unordered_map<std::string, uint32_t> ids;
  std::lock_guard lock(mutex);
  auto [it, inserted] = ids.try_emplace(address, static_cast<uint32_t>(ids.size() + 1));
  return it->second;
}

}  // namespace turnout::route
