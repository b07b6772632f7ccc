// The data plane as a whole: listeners bound once per worker (SO_REUSEPORT), the workers, and
// publication of snapshots to all of them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/settings.h"
#include "proxy/worker.h"
#include "route/snapshot.h"

namespace turnout::proxy {

struct ListenSpec {
  std::string address;          // "127.0.0.1:8080"; port 0 picks a free port
  bool next_free_port = false;  // paralarva -n: if the port is taken, try the following ones
};

class Server {
 public:
  Server(ProxySettings settings, uint32_t worker_count);
  ~Server();

  // Binds every listener for every worker. False with a one-line `error` (address and reason).
  bool bind(const std::vector<ListenSpec>& listens, std::string& error);
  // The addresses actually bound ("127.0.0.1:8080"), in the order given.
  const std::vector<std::string>& boundAddresses() const { return bound_; }

  // Installs the first snapshot and starts the worker threads.
  void start(std::shared_ptr<const route::Snapshot> snapshot);
  // Hands `snapshot` to every worker; returns once each runs it, or false after `wait`
  // with some worker still behind (it will take it when its loop gets there).
  bool publish(std::shared_ptr<const route::Snapshot> snapshot,
               std::chrono::milliseconds wait = std::chrono::milliseconds(1000));
  // Stops accepting and lets in-flight requests finish for up to `timeout`; then stops.
  void drain(std::chrono::milliseconds timeout);
  uint32_t workerCount() const { return static_cast<uint32_t>(workers_.size()); }
  // Every worker's metric shard (they exist from construction and outlive the workers).
  std::vector<const observe::WorkerMetrics*> metrics() const;

 private:
  ProxySettings settings_;
  uint32_t worker_count_;
  std::vector<std::vector<int>> listen_fds_;  // [worker][listener]
  std::vector<std::string> bound_;
  std::vector<std::unique_ptr<observe::WorkerMetrics>> metrics_;  // before workers_: outlives them
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace turnout::proxy
