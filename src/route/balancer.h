// Endpoint sets and the load-balancing policies that pick from them (included by snapshot.h).
//
// A pick reads the compiled set (immutable, shared by workers), the process's health table
// (relaxed loads) and its own worker's scratch; it takes no lock, does no atomic
// read-modify-write and, once the worker's scratch is warm, allocates nothing.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "http/message.h"
#include "route/hash_ring.h"
#include "route/maglev.h"
#include "route/peak_ewma.h"

namespace turnout::health {
class EndpointStates;
}  // namespace turnout::health

namespace turnout::route {

enum class LbPolicy : uint8_t { kRandom, kRoundRobin, kLeastRequest, kRingHash, kMaglev, kEwma };

// "random", "round_robin", ... -> the policy; round_robin for anything else (validated before).
LbPolicy lbPolicyOf(std::string_view name);
inline bool isHashPolicy(LbPolicy lb) {
  return lb == LbPolicy::kRingHash || lb == LbPolicy::kMaglev;
}

struct Endpoint {
  uint32_t id =
      0;  // interned identity of `address`: stable across snapshots, indexes runtime state
  std::string address;  // "IP:PORT" as configured
  sockaddr_storage sockaddr{};
  socklen_t sockaddr_len = 0;
  std::string version;
  uint32_t weight = 1;
  // A DNS-named endpoint ("api.example.com:443") is one Endpoint per resolved address, each
  // with the name as `hostname` (the upstream Host: "api.example.com", ":port" unless 80).
  std::string hostname;
  std::string unresolved;  // why a DNS name has no address (sockaddr unset): 502 when picked
};

// A service's balancing settings, as compiled into each of its endpoint sets.
struct BalancerSettings {
  LbPolicy lb = LbPolicy::kRoundRobin;
  config::HashPolicy hash;  // ring_hash, maglev: what a request's key is
  // Below this share of available endpoints (by count, as Envoy), pick over all of them.
  uint32_t panic_threshold_percent = 50;
  uint32_t slow_start_ms = 0;  // weighted policies: a new endpoint's weight ramps up (0 = off)
};

// The endpoints a worker may pick from now, cached per worker and per set: rebuilt when the
// health table's generation moves, and every kRefreshMs while a slow start window may be open.
struct PickableView {
  static constexpr uint64_t kRefreshMs = 100;

  const health::EndpointStates* states = nullptr;  // the table it was built from
  uint64_t generation = 0;                         // 0: never built
  uint64_t built_ms = 0;
  bool refresh_periodically = false;
  bool uniform = true;               // every effective weight equal: draw by count
  std::vector<uint32_t> indexes;     // pickable endpoint indexes, in set order
  std::vector<uint64_t> cumulative;  // running sum of their effective weights
  std::vector<uint8_t> usable;       // by endpoint index: 1 when pickable (hash policies)

  uint64_t total() const { return cumulative.empty() ? 0 : cumulative.back(); }
  uint64_t weightAt(size_t k) const { return cumulative[k] - (k == 0 ? 0 : cumulative[k - 1]); }
};

// Per-worker mutable balancer scratch, one cache line each so workers never share a line.
struct alignas(64) WorkerLbScratch {
  std::vector<int64_t> current_weights;  // smooth weighted round robin (nginx's algorithm)
  uint32_t next_in_rotation = 0;         // round robin over equal weights
  PickableView view;
};

// The endpoints one split target can use: a service, or one version of it. Immutable, except
// for `scratch[worker]`, which belongs to that worker alone.
class EndpointSet {
 public:
  EndpointSet(std::vector<Endpoint> endpoints, const BalancerSettings& settings,
              uint32_t worker_count);
  EndpointSet(std::vector<Endpoint> endpoints, LbPolicy lb, uint32_t worker_count)
      : EndpointSet(std::move(endpoints), settingsOf(lb), worker_count) {}
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  LbPolicy lb() const { return settings_.lb; }
  const BalancerSettings& settings() const { return settings_; }
  uint64_t totalWeight() const { return total_weight_; }
  const HashRing& ring() const { return ring_; }         // ring_hash only
  const MaglevTable& maglev() const { return maglev_; }  // maglev only
  WorkerLbScratch& scratch(uint32_t worker) const { return scratch_[worker]; }

 private:
  static BalancerSettings settingsOf(LbPolicy lb) {
    BalancerSettings settings;
    settings.lb = lb;
    return settings;
  }

  std::vector<Endpoint> endpoints_;  // weight 0 endpoints are kept (drained) but never picked
  BalancerSettings settings_;
  uint64_t total_weight_ = 0;
  HashRing ring_;
  MaglevTable maglev_;
  std::unique_ptr<WorkerLbScratch[]> scratch_;
};

// What a worker brings to a pick. Aggregate: callers set what their policy needs.
struct PickContext {
  uint32_t worker = 0;
  const std::vector<uint32_t>* active_by_endpoint = nullptr;  // in flight, by id (may be short)
  std::mt19937_64* rng = nullptr;
  uint64_t hash = 0;    // ring_hash, maglev: the request's key (requestHash)
  uint64_t now_ms = 0;  // monotonic ms (the worker loop's clock): slow start, ewma decay
  // Endpoint ids this request already tried (retries): avoided while another one can be picked.
  std::span<const uint32_t> avoid{};
  const PeakEwma* latency = nullptr;               // ewma: this worker's estimates
  const health::EndpointStates* states = nullptr;  // nullptr: the process's table
};

// Picks an endpoint of `set` by its policy among the available ones (all of them in panic);
// nullptr when none has a positive weight, or none is available and the set is not in panic.
const Endpoint* pickEndpoint(const EndpointSet& set, PickContext& ctx);

// A request's key for ring_hash and maglev: the value of the policy's header or cookie; without
// one (no policy, or the request lacks that header or cookie) the client's IP, so a client
// still sticks to one endpoint.
uint64_t requestHash(const config::HashPolicy& policy,
                     const std::vector<http::HeaderField>& headers, std::string_view client_ip);

}  // namespace turnout::route
