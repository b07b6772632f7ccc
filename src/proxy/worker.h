// A worker: one thread, one event loop, its own acceptor on every listener (SO_REUSEPORT),
// its own client connections, upstream pools and counters. Everything in here is touched by
// the worker's thread only, except the few methods marked thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/event_loop.h"
#include "health/outlier_counts.h"
#include "http/message.h"
#include "observe/metrics.h"
#include "proxy/settings.h"
#include "route/snapshot.h"
#include "upstream/pool.h"

namespace turnout::proxy {

class ClientConnection;
class Acceptor;
class Worker;

// A snapshot as one worker holds it: counted leases without atomics, since only this worker
// takes them. A request keeps its lease (and so its snapshot) until it ends.
struct HeldSnapshot {
  std::shared_ptr<const route::Snapshot> snapshot;
  uint32_t leases = 0;
};

class SnapshotLease {
 public:
  SnapshotLease() = default;
  SnapshotLease(Worker* worker, HeldSnapshot* held);
  SnapshotLease(SnapshotLease&& other) noexcept;
  SnapshotLease& operator=(SnapshotLease&& other) noexcept;
  SnapshotLease(const SnapshotLease&) = delete;
  SnapshotLease& operator=(const SnapshotLease&) = delete;
  ~SnapshotLease() { reset(); }

  const route::Snapshot* get() const { return held_ ? held_->snapshot.get() : nullptr; }
  const route::Snapshot* operator->() const { return get(); }
  void reset();

 private:
  Worker* worker_ = nullptr;
  HeldSnapshot* held_ = nullptr;
};

class Worker {
 public:
  // `metrics` is this worker's shard; it outlives the worker (the scraper reads it).
  Worker(uint32_t index, const ProxySettings& settings, std::vector<int> listen_fds,
         observe::WorkerMetrics& metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Installs the first snapshot, then spawns the thread.
  void start(std::shared_ptr<const route::Snapshot> snapshot);
  void join();

  // Thread-safe: makes `snapshot` current on this worker, then calls `done` on this worker's
  // thread (the publisher counts these to know every worker switched).
  void publish(std::shared_ptr<const route::Snapshot> snapshot, std::function<void()> done);
  // Thread-safe: stop accepting, close idle connections, let in-flight requests finish; the
  // loop ends when no connection is left.
  void beginDrain();
  // Thread-safe: end the loop now (drain timeout).
  void stop();
  bool finished() const { return finished_; }

  // For the worker's own connections.
  uint32_t index() const { return index_; }
  core::EventLoop& loop() { return loop_; }
  const ProxySettings& settings() const { return settings_; }
  upstream::UpstreamPool& pool() { return pool_; }
  std::mt19937_64& rng() { return rng_; }
  std::vector<uint32_t>& activeByEndpoint() { return active_by_endpoint_; }
  route::PeakEwma& latencyByEndpoint() { return latency_by_endpoint_; }  // the ewma balancer's
  health::OutlierCounts& outlierCounts() { return outlier_counts_; }
  observe::WorkerMetrics& metrics() { return metrics_; }
  // The series a request counts into: its target's, its route's when no target was picked,
  // or the one for requests no route took. nullptr once the registry is full.
  observe::RouteSeries* seriesOf(const route::CompiledRoute* route,
                                 const route::CompiledTarget* target);
  SnapshotLease leaseSnapshot();
  const route::Snapshot* currentSnapshot() const { return current_->snapshot.get(); }
  bool draining() const { return draining_; }
  std::string newRequestId();
  // Per-worker scratch space, valid until the worker returns to its loop: the read buffer
  // of connections that hold no bytes, and the head being parsed (parsing is synchronous).
  std::vector<char>& scratch() { return scratch_; }
  http::RequestHead& scratchHead() { return scratch_head_; }

  void adoptConnection(int fd, const sockaddr_storage& peer, uint32_t listener);
  void onConnectionClosed(ClientConnection* conn);

 private:
  friend class SnapshotLease;
  void releaseHeld(HeldSnapshot* held);
  HeldSnapshot* install(std::shared_ptr<const route::Snapshot> snapshot);
  void closeIdleToRemovedEndpoints();
  void stopIfDrained();

  uint32_t index_;
  ProxySettings settings_;
  observe::WorkerMetrics& metrics_;
  core::EventLoop loop_;
  upstream::UpstreamPool pool_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unordered_set<ClientConnection*> connections_;
  HeldSnapshot* current_ = nullptr;
  std::vector<std::unique_ptr<HeldSnapshot>> held_;  // current and retired, still leased
  std::mt19937_64 rng_;
  std::vector<uint32_t> active_by_endpoint_;
  route::PeakEwma latency_by_endpoint_;
  health::OutlierCounts outlier_counts_;      // consecutive failures by endpoint id, this worker's
  observe::RouteSeries* unrouted_ = nullptr;  // requests no route took (and malformed ones)
  std::vector<char> scratch_ = std::vector<char>(64 * 1024);
  http::RequestHead scratch_head_;
  bool draining_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace turnout::proxy
