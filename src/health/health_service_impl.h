// The health thread's insides (health/health_service.h says what it does). Everything below
// `Loop-owned` belongs to the health thread alone; the view (checked ids, ejection deadlines,
// per-service counters) is what the admin API reads, under view_mutex_. Private to the module.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_loop.h"
#include "core/timer.h"
#include "health/check_verdict.h"
#include "health/health_service.h"
#include "health/probe.h"
#include "observe/metrics.h"

namespace turnout::health {

// One service's health counters: written by the health thread only (one writer, relaxed, as
// the workers' shards are), read by scrapes.
struct ServiceCounters {
  observe::ShardCounter checks_passed;
  observe::ShardCounter checks_failed;
  std::array<observe::ShardCounter, kOutlierReasons> ejections;
};

// One active check: an endpoint, the settings and Host it is checked with, its verdict, and
// the services that asked for it (whose counters each result adds to).
class ActiveCheck {
 public:
  ActiveCheck(HealthService::Impl& owner, const route::Endpoint& endpoint,
              const config::HealthCheck& settings, std::string host, bool start_failed);

  // Runs the first check after `delay_ms`; each later one follows the previous result.
  void scheduleFirst(uint64_t delay_ms);
  bool sameCheck(const config::HealthCheck& settings, const std::string& host) const {
    return settings_ == settings && host_ == host;
  }

  const uint32_t id;
  const std::string address;
  std::vector<ServiceCounters*> services;
  CheckVerdict verdict;

  const config::HealthCheck& settings() const { return settings_; }

 private:
  void onResult(bool success, const std::string& why);

  HealthService::Impl& owner_;
  config::HealthCheck settings_;
  std::string host_;
  Probe probe_;
  core::Timer next_;
};

class HealthService::Impl {
 public:
  explicit Impl(EndpointStates& states);
  ~Impl();

  void start();
  void stop();
  void update(std::shared_ptr<const route::Snapshot> snapshot);
  void requestEjection(const std::string& service, uint32_t endpoint_id, OutlierReason reason);
  EndpointHealth endpointHealth(uint32_t endpoint_id) const;
  void renderMetrics(const route::Snapshot& snapshot, std::string& out) const;
  size_t checkCount() const;

  // For ActiveCheck, on the health thread.
  core::EventLoop& loop() { return loop_; }
  std::mt19937_64& rng() { return rng_; }
  void onCheckResult(ActiveCheck& check, bool success, const std::string& why, bool changed);

 private:
  struct WantedCheck {
    const route::Endpoint* endpoint = nullptr;
    const config::HealthCheck* settings = nullptr;
    std::string host;
    std::vector<ServiceCounters*> services;
  };
  using WantedChecks = std::unordered_map<uint32_t, std::vector<WantedCheck>>;
  struct EjectionRequest {
    std::string service;
    uint32_t endpoint_id = 0;
    OutlierReason reason = OutlierReason::kConsecutive5xx;
  };
  struct Ejection {
    std::unique_ptr<core::Timer> timer;
    std::string address;
  };

  // Checks (health_checks.cc).
  void applyPending();
  void apply(std::shared_ptr<const route::Snapshot> snapshot);
  WantedChecks wantedChecks(const route::Snapshot& snapshot);
  void syncChecks(WantedChecks& wanted, std::unordered_set<uint32_t>& touched);
  void createChecks(WantedChecks& wanted, std::unordered_set<uint32_t>& touched);
  void refreshCheckedState(const std::unordered_set<uint32_t>& touched);
  void writeCheckFailed(uint32_t id);
  void logTransition(const ActiveCheck& check, const std::string& why);
  ServiceCounters* countersFor(const std::string& service);
  void forgetRemovedServices(const route::Snapshot& snapshot);
  void noteNewEndpoints(const route::Snapshot& snapshot);

  // Ejections (ejections.cc).
  void takeEjectionRequests();
  void eject(const EjectionRequest& request);
  void unEject(uint32_t id, const char* why);
  size_t ejectedCount(const route::EndpointSet& endpoints) const;

  EndpointStates& states_;
  core::EventLoop loop_;
  std::thread thread_;
  bool started_ = false;

  std::mutex pending_mutex_;  // update(): the newest snapshot not yet applied
  std::shared_ptr<const route::Snapshot> pending_;
  std::mutex requests_mutex_;  // requestEjection(): the queue the thread drains
  std::vector<EjectionRequest> requests_;

  mutable std::mutex view_mutex_;
  std::unordered_set<uint32_t> checked_ids_;                 // ids with at least one check
  std::unordered_map<uint32_t, uint64_t> ejected_until_ms_;  // monotonic (coarse) deadlines
  std::map<std::string, std::unique_ptr<ServiceCounters>, std::less<>> counters_;
  size_t check_count_ = 0;

  // Loop-owned.
  std::mt19937_64 rng_;
  std::shared_ptr<const route::Snapshot> current_;
  std::unordered_map<uint32_t, std::vector<std::unique_ptr<ActiveCheck>>> checks_;
  std::unordered_map<uint32_t, Ejection> ejections_;
  std::unordered_map<uint32_t, uint64_t> returned_at_ms_;  // last return from an ejection
};

// CLOCK_MONOTONIC_COARSE in ms: the timer wheel's clock, readable from any thread.
uint64_t coarseNowMs();

}  // namespace turnout::health
