#include "upstream/pool.h"

#include <algorithm>
#include <cerrno>

#include "core/net.h"

namespace turnout::upstream {

UpstreamPool::~UpstreamPool() {
  for (UpstreamConnection* conn : live_) delete conn;
}

UpstreamConnection* UpstreamPool::takeIdle(uint32_t endpoint_id, UpstreamUser* user) {
  auto it = idle_.find(endpoint_id);
  while (it != idle_.end() && !it->second.empty()) {
    UpstreamConnection* conn = it->second.back();
    it->second.pop_back();
    if (conn->closed()) continue;
    conn->attach(user);
    return conn;
  }
  return nullptr;
}

UpstreamConnection* UpstreamPool::connect(uint32_t endpoint_id, const sockaddr_storage& addr,
                                          socklen_t len, UpstreamUser* user) {
  int fd = core::connectNonBlocking(addr, len);
  if (fd < 0) return nullptr;
  auto* conn = new UpstreamConnection(loop_, *this, fd, endpoint_id, false);
  live_.insert(conn);
  if (open_gauge_ != nullptr) observe::gaugeAdd(*open_gauge_, 1);
  conn->attach(user);
  return conn;
}

void UpstreamPool::release(UpstreamConnection* conn, bool reusable) {
  if (conn->closed()) return;
  auto& idle = idle_[conn->endpointId()];
  if (!reusable || !conn->in().empty() || conn->pendingOutput() != 0 || conn->eof() ||
      idle.size() >= settings_.max_idle_per_endpoint) {
    conn->close();
    return;
  }
  conn->parkIdle(settings_.idle_timeout_ms);
  idle.push_back(conn);
}

void UpstreamPool::removeIdle(UpstreamConnection* conn) {
  auto it = idle_.find(conn->endpointId());
  if (it == idle_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), conn), list.end());
}

void UpstreamPool::destroy(UpstreamConnection* conn) {
  removeIdle(conn);
  // The connection may be on the call stack (and in this batch of events): free it after.
  loop_.defer([this, conn] {
    if (live_.erase(conn) > 0 && open_gauge_ != nullptr) observe::gaugeAdd(*open_gauge_, -1);
    delete conn;
  });
}

void UpstreamPool::closeIdleExcept(const std::vector<uint32_t>& live_ids) {
  std::vector<UpstreamConnection*> doomed;
  for (auto& [id, list] : idle_) {
    if (std::binary_search(live_ids.begin(), live_ids.end(), id)) continue;
    doomed.insert(doomed.end(), list.begin(), list.end());
  }
  for (UpstreamConnection* conn : doomed) conn->close();
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [id, list] : idle_) n += list.size();
  return n;
}

}  // namespace turnout::upstream
