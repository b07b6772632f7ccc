#include "proxy/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "proxy/client_connection.h"

namespace turnout::proxy {

// Accepts on one SO_REUSEPORT socket of this worker; the kernel spreads connections.
class Acceptor final : public core::IoHandler {
 public:
  Acceptor(Worker& worker, int fd, uint32_t listener)
      : worker_(worker), fd_(fd), listener_(listener) {
    worker_.loop().add(fd_, this);
  }
  ~Acceptor() override { close(); }

  void close() {
    if (fd_ < 0) return;
    worker_.loop().remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }

  void onIoEvents(uint32_t) override {
    // Bounded per wake-up so one busy listener cannot starve the connections already open.
    for (int i = 0; i < 128 && fd_ >= 0; ++i) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int fd =
          ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return;  // EMFILE and friends: the edge will come again with the next connection
      }
      worker_.adoptConnection(fd, peer, listener_);
    }
    // More may be waiting: edge-triggered, so come back after this batch.
    worker_.loop().defer([this] { onIoEvents(EPOLLIN); });
  }

 private:
  Worker& worker_;
  int fd_;
  uint32_t listener_;  // index of the listen address, for ProxySettings::listener_names
};

// ---- SnapshotLease --------------------------------------------------------------------------

SnapshotLease::SnapshotLease(Worker* worker, HeldSnapshot* held) : worker_(worker), held_(held) {
  if (held_) ++held_->leases;
}

SnapshotLease::SnapshotLease(SnapshotLease&& other) noexcept
    : worker_(other.worker_), held_(other.held_) {
  other.held_ = nullptr;
}

SnapshotLease& SnapshotLease::operator=(SnapshotLease&& other) noexcept {
  if (this != &other) {
    reset();
    worker_ = other.worker_;
    held_ = other.held_;
    other.held_ = nullptr;
  }
  return *this;
}

void SnapshotLease::reset() {
  if (held_ == nullptr) return;
  if (--held_->leases == 0) worker_->releaseHeld(held_);
  held_ = nullptr;
}

// ---- Worker ---------------------------------------------------------------------------------

Worker::Worker(uint32_t index, const ProxySettings& settings, std::vector<int> listen_fds,
               observe::WorkerMetrics& metrics)
    : index_(index),
      settings_(settings),
      metrics_(metrics),
      pool_(loop_, settings.pool),
      rng_(std::random_device{}() ^ (uint64_t{index} << 32)) {
  pool_.countOpenIn(&metrics_.upstream_connections_active);
  for (uint32_t i = 0; i < listen_fds.size(); ++i) {
    acceptors_.push_back(std::make_unique<Acceptor>(*this, listen_fds[i], i));
  }
}

Worker::~Worker() {
  join();
  for (ClientConnection* conn : connections_) delete conn;
  connections_.clear();
  acceptors_.clear();
}

void Worker::start(std::shared_ptr<const route::Snapshot> snapshot) {
  install(std::move(snapshot));
  thread_ = std::thread([this] {
    loop_.run();
    finished_ = true;
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::publish(std::shared_ptr<const route::Snapshot> snapshot, std::function<void()> done) {
  loop_.post([this, snapshot = std::move(snapshot), done = std::move(done)]() mutable {
    HeldSnapshot* previous = install(std::move(snapshot));
    if (done) done();  // the switch is what the publisher waits for; what follows is not
    if (previous != nullptr && previous->leases == 0) releaseHeld(previous);
    closeIdleToRemovedEndpoints();
  });
}

// Makes `snapshot` current and returns the one it replaces, which the caller releases once
// the switch is acknowledged (freeing a snapshot is not free, and not urgent).
HeldSnapshot* Worker::install(std::shared_ptr<const route::Snapshot> snapshot) {
  auto held = std::make_unique<HeldSnapshot>();
  held->snapshot = std::move(snapshot);
  HeldSnapshot* previous = current_;
  current_ = held.get();
  held_.push_back(std::move(held));
  return previous;
}

void Worker::closeIdleToRemovedEndpoints() {
  if (pool_.idleCount() == 0) return;
  // Idle pooled connections to endpoints that left the configuration close now; busy ones
  // finish their exchange and close when released (their endpoint is no longer picked).
  std::vector<uint32_t> live;
  current_->snapshot->forEachEndpointId([&live](uint32_t id) { live.push_back(id); });
  std::sort(live.begin(), live.end());
  pool_.closeIdleExcept(live);
}

SnapshotLease Worker::leaseSnapshot() { return SnapshotLease(this, current_); }

void Worker::releaseHeld(HeldSnapshot* held) {
  if (held == current_) return;
  held_.erase(
      std::remove_if(held_.begin(), held_.end(), [held](const auto& p) { return p.get() == held; }),
      held_.end());
}

std::string Worker::newRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng_(), b = rng_();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (i * 4)) & 0xf];
    id[16 + i] = kHex[(b >> (i * 4)) & 0xf];
  }
  return id;
}

observe::RouteSeries* Worker::seriesOf(const route::CompiledRoute* route,
                                       const route::CompiledTarget* target) {
  if (route == nullptr) {
    if (unrouted_ == nullptr) unrouted_ = metrics_.series("", "", "");
    return unrouted_;
  }
  observe::RouteSeries*& cached = (target ? target->series : route->series).slot(index_);
  if (cached == nullptr) {
    cached = target ? metrics_.series(route->source.id, target->service, target->version)
                    : metrics_.series(route->source.id, "", "");
  }
  return cached;
}

void Worker::adoptConnection(int fd, const sockaddr_storage& peer, uint32_t listener) {
  if (draining_) {
    ::close(fd);
    return;
  }
  const std::vector<std::string>& names = settings_.listener_names;
  static const std::string kUnnamed;
  observe::gaugeAdd(metrics_.connections_active, 1);
  connections_.insert(
      new ClientConnection(*this, fd, peer, listener < names.size() ? names[listener] : kUnnamed));
}

void Worker::onConnectionClosed(ClientConnection* conn) {
  if (connections_.erase(conn) > 0) observe::gaugeAdd(metrics_.connections_active, -1);
  loop_.defer([this, conn] {
    delete conn;
    stopIfDrained();
  });
}

void Worker::beginDrain() {
  loop_.post([this] {
    draining_ = true;
    for (auto& acceptor : acceptors_) acceptor->close();
    std::vector<ClientConnection*> conns(connections_.begin(), connections_.end());
    for (ClientConnection* conn : conns) conn->beginDrain();
    stopIfDrained();
  });
}

void Worker::stopIfDrained() {
  if (draining_ && connections_.empty()) loop_.stop();
}

void Worker::stop() { loop_.stop(); }

}  // namespace turnout::proxy
