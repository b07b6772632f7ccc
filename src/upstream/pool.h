// Per-worker keep-alive pools, one list of idle connections per endpoint. Owned by one worker
// and touched only by its thread: no locks.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_loop.h"
#include "observe/metrics.h"
#include "upstream/connection.h"

namespace turnout::upstream {

struct PoolSettings {
  uint32_t max_idle_per_endpoint = 64;
  uint32_t idle_timeout_ms = 60000;
};

class UpstreamPool {
 public:
  UpstreamPool(core::EventLoop& loop, PoolSettings settings) : loop_(loop), settings_(settings) {}
  ~UpstreamPool();

  // An idle connection to `endpoint_id` (most recently used first, so the set of warm
  // connections stays small), or nullptr when there is none.
  UpstreamConnection* takeIdle(uint32_t endpoint_id, UpstreamUser* user);
  // A new connection being connected to `addr`; nullptr with errno set if the connect failed
  // at once.
  UpstreamConnection* connect(uint32_t endpoint_id, const sockaddr_storage& addr, socklen_t len,
                              UpstreamUser* user);
  // Gives a connection back after a complete exchange; it is kept if it is clean and the
  // endpoint's idle list has room, otherwise closed.
  void release(UpstreamConnection* conn, bool reusable);
  // Called by a connection that closed itself: frees it once the event batch is over.
  void destroy(UpstreamConnection* conn);
  // Closes every idle connection to endpoints not in `live_ids` (sorted).
  void closeIdleExcept(const std::vector<uint32_t>& live_ids);
  size_t idleCount() const;
  const PoolSettings& settings() const { return settings_; }
  // Where the number of open connections is kept for the metrics (the worker's gauge).
  void countOpenIn(observe::ShardCounter* gauge) { open_gauge_ = gauge; }

 private:
  void removeIdle(UpstreamConnection* conn);
  friend class UpstreamConnection;

  core::EventLoop& loop_;
  PoolSettings settings_;
  std::unordered_map<uint32_t, std::vector<UpstreamConnection*>> idle_;
  std::unordered_set<UpstreamConnection*> live_;  // every connection not yet freed
  observe::ShardCounter* open_gauge_ = nullptr;
};

}  // namespace turnout::upstream
