#include "proxy/server.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/net.h"

namespace turnout::proxy {
namespace {

constexpr int kBacklog = 4096;
constexpr int kNextFreePortTries = 100;

void setPort(sockaddr_storage& addr, uint16_t port) {
  if (addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
  }
}

uint16_t getPort(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

// Binds without SO_REUSEPORT first: that fails if anyone holds the port, even another process
// with SO_REUSEPORT under our uid, which would otherwise silently share our traffic. With port
// 0 it also picks the port the workers then share.
bool probe(sockaddr_storage& addr, socklen_t len, std::string& why, int& err) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    err = errno;
    why = core::formatAddress(addr) + ": " + std::strerror(err);
    ::close(fd);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  setPort(addr, getPort(bound));
  ::close(fd);
  return true;
}

}  // namespace

Server::Server(ProxySettings settings, uint32_t worker_count)
    : settings_(std::move(settings)), worker_count_(worker_count), listen_fds_(worker_count) {
  for (uint32_t w = 0; w < worker_count_; ++w) {
    metrics_.push_back(std::make_unique<observe::WorkerMetrics>());
  }
}

Server::~Server() {
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  for (auto& fds : listen_fds_) {
    for (int fd : fds) ::close(fd);
  }
}

bool Server::bind(const std::vector<ListenSpec>& listens, std::string& error) {
  for (const ListenSpec& spec : listens) {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string why;
    if (!core::resolveListenAddress(spec.address, addr, len, why)) {
      error = "cannot listen on " + spec.address + ": " + why;
      return false;
    }
    int err = 0;
    bool ok = probe(addr, len, why, err);
    for (int i = 1; !ok && spec.next_free_port && err == EADDRINUSE && i < kNextFreePortTries;
         ++i) {
      setPort(addr, static_cast<uint16_t>(getPort(addr) + 1));
      ok = probe(addr, len, why, err);
    }
    if (!ok) {
      error = "cannot listen on " + why;
      return false;
    }
    for (uint32_t w = 0; w < worker_count_; ++w) {
      int fd = core::listenTcp(addr, len, kBacklog, why);
      if (fd < 0) {
        error = "cannot listen on " + why;
        return false;
      }
      listen_fds_[w].push_back(fd);
    }
    bound_.push_back(core::formatAddress(addr));
  }
  return true;
}

void Server::start(std::shared_ptr<const route::Snapshot> snapshot) {
  for (uint32_t w = 0; w < worker_count_; ++w) {
    workers_.push_back(
        std::make_unique<Worker>(w, settings_, std::move(listen_fds_[w]), *metrics_[w]));
    listen_fds_[w].clear();
  }
  // Installed before the threads start: the first connection a worker accepts must already
  // find the configuration, never an empty table (a posted task would run after the first
  // batch of accept events).
  for (auto& worker : workers_) worker->start(snapshot);
}

std::vector<const observe::WorkerMetrics*> Server::metrics() const {
  std::vector<const observe::WorkerMetrics*> out;
  for (const auto& shard : metrics_) out.push_back(shard.get());
  return out;
}

bool Server::publish(std::shared_ptr<const route::Snapshot> snapshot,
                     std::chrono::milliseconds wait) {
  struct Tally {
    std::mutex mutex;
    std::condition_variable cv;
    size_t done = 0;
  };
  auto tally = std::make_shared<Tally>();
  for (auto& worker : workers_) {
    worker->publish(snapshot, [tally] {
      std::lock_guard<std::mutex> lock(tally->mutex);
      ++tally->done;
      tally->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(tally->mutex);
  return tally->cv.wait_for(lock, wait, [&] { return tally->done == workers_.size(); });
}

void Server::drain(std::chrono::milliseconds timeout) {
  for (auto& worker : workers_) worker->beginDrain();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Bounded wait: poll the workers' state every 20 ms until all finished or time is up.
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (auto& worker : workers_) all = all && worker->finished();
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& worker : workers_) worker->stop();
  for (auto& worker : workers_) worker->join();
}

}  // namespace turnout::proxy
