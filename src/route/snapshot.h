// The compiled, immutable routing snapshot, and apply(change), which builds the next one.
//
// A Snapshot is built on the control thread and handed to every worker as a
// shared_ptr<const Snapshot>; a request keeps the snapshot it started with. Nothing in it
// changes after publication except the per-worker balancer scratch (see EndpointSet), which
// only its own worker touches. apply() reuses every compiled Route and Service the change does
// not touch (structural sharing), so a change costs what it changes plus pointer copies.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "http/message.h"

namespace re2 {
class RE2;
}

namespace turnout::route {

enum class LbPolicy : uint8_t { kRandom, kRoundRobin, kLeastRequest };

struct Endpoint {
  uint32_t id =
      0;  // interned identity of `address`: stable across snapshots, indexes runtime state
  std::string address;  // "IP:PORT" as configured
  sockaddr_storage sockaddr{};
  socklen_t sockaddr_len = 0;
  std::string version;
  uint32_t weight = 1;
};

// Per-worker mutable balancer scratch, one cache line each so workers never share a line.
struct alignas(64) WorkerLbScratch {
  std::vector<int64_t> current_weights;  // smooth weighted round robin (nginx's algorithm)
};

// The endpoints one split target can use: a service, or one version of it. Immutable, except
// for `scratch[worker]`, which belongs to that worker alone.
class EndpointSet {
 public:
  EndpointSet(std::vector<Endpoint> endpoints, LbPolicy lb, uint32_t worker_count);
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  LbPolicy lb() const { return lb_; }
  uint64_t totalWeight() const { return total_weight_; }
  WorkerLbScratch& scratch(uint32_t worker) const { return scratch_[worker]; }

 private:
  std::vector<Endpoint> endpoints_;  // weight 0 endpoints are kept (drained) but never picked
  LbPolicy lb_;
  uint64_t total_weight_ = 0;
  std::unique_ptr<WorkerLbScratch[]> scratch_;
};

// What a worker brings to a pick: its index, its in-flight counts by endpoint id
// (least_request) and its random source.
struct PickContext {
  uint32_t worker = 0;
  const std::vector<uint32_t>* active_by_endpoint = nullptr;  // may be shorter than ids
  std::mt19937_64* rng = nullptr;
};

// Picks an endpoint of `set` by its policy; nullptr when no endpoint has a positive weight.
const Endpoint* pickEndpoint(const EndpointSet& set, PickContext& ctx);

struct CompiledService {
  config::Service source;
  std::shared_ptr<const EndpointSet> all;  // every endpoint
  std::vector<std::pair<std::string, std::shared_ptr<const EndpointSet>>> by_version;
  const EndpointSet* forVersion(std::string_view version) const;  // "" = all; nullptr if unknown
};

struct CompiledTarget {
  std::string service;
  std::string version;
  uint32_t weight = 0;
  uint64_t cumulative = 0;  // running weight sum, for the weighted pick
};

struct CompiledRoute {
  config::Route source;
  enum class HostKind : uint8_t { kAny, kExact, kWildcard } host_kind = HostKind::kAny;
  std::string host;  // lowercased; for kWildcard the suffix with its dot (".example.com")
  std::vector<std::pair<std::string, std::unique_ptr<re2::RE2>>> headers;
  std::vector<CompiledTarget> targets;
  uint64_t total_weight = 0;
  uint64_t rank = 0;  // position in the global match order (lower wins)

  ~CompiledRoute();
  bool matchesRequest(std::string_view path, const std::vector<http::HeaderField>& headers) const;
  // Weighted pick of a split target; nullptr when every weight is 0.
  const CompiledTarget* pickTarget(std::mt19937_64& rng) const;
  // The path sent upstream: with strip_prefix, the matched prefix removed ("/" if nothing is left).
  std::string upstreamPath(std::string_view path) const;
};

struct MatchInput {
  std::string_view host;  // Host header or absolute-form authority, as sent (any case, maybe :port)
  std::string_view path;
  const std::vector<http::HeaderField>* headers = nullptr;
};

struct SnapshotState;  // route/snapshot_state.h

class Snapshot {
 public:
  Snapshot();
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  uint64_t revision() const { return revision_; }
  uint32_t workerCount() const { return worker_count_; }

  // The best route for a request: highest priority, then most specific; nullptr if none.
  const CompiledRoute* match(const MatchInput& input) const;
  const CompiledService* service(std::string_view name) const;
  const CompiledRoute* route(std::string_view id) const;
  bool hasRoute(std::string_view id) const { return route(id) != nullptr; }
  // Every route in match order (rank) and every service in document order. Built on first
  // use: they are for the control plane and tests, and keeping them as whole vectors would make
  // every change cost O(total).
  const std::vector<std::shared_ptr<const CompiledRoute>>& routes() const;
  const std::vector<std::shared_ptr<const CompiledService>>& services() const;

  config::Config toConfig() const;  // the model this snapshot was compiled from
  // Every endpoint id of every service (repeats possible), without building any list.
  void forEachEndpointId(const std::function<void(uint32_t)>& visit) const;

 private:
  friend class Compiler;
  friend struct SnapshotAccess;
  uint64_t revision_ = 0;
  uint32_t worker_count_ = 1;
  // The indexes (host buckets, path trees, name maps, orders), shared part by part with the
  // snapshots before and after this one.
  std::unique_ptr<SnapshotState> state_;
  mutable std::once_flag routes_once_;
  mutable std::vector<std::shared_ptr<const CompiledRoute>> routes_;
  mutable std::once_flag services_once_;
  mutable std::vector<std::shared_ptr<const CompiledService>> services_;
};

// One change to the running configuration: the unit of apply().
struct Change {
  enum class Kind : uint8_t {
    kReplaceAll,
    kUpsertRoute,
    kRemoveRoute,
    kUpsertService,
    kRemoveService
  };
  Kind kind = Kind::kReplaceAll;
  config::Config all;       // kReplaceAll
  config::Route route;      // kUpsertRoute
  config::Service service;  // kUpsertService
  std::string name;         // kRemoveRoute (route id), kRemoveService (service name)
};

// Why apply() refused a change: the admin API answers 400, 404 or 409 from it.
enum class Refusal : uint8_t { kNone, kInvalid, kNotFound, kConflict };

// Builds snapshots. Lives on the control thread; not thread-safe.
class Compiler {
 public:
  explicit Compiler(uint32_t worker_count) : worker_count_(worker_count) {}

  // Validates `change` against `previous` (nullptr = empty) and returns the next snapshot with
  // revision `revision` (0: previous+1), or nullptr with `errors` filled (field paths as in
  // config::Error) and lastRefusal() saying why. Removing a service a route still splits to is
  // a conflict naming those routes; removing an unknown object is kNotFound.
  std::shared_ptr<const Snapshot> apply(const Snapshot* previous, const Change& change,
                                        std::vector<config::Error>& errors, uint64_t revision = 0);
  Refusal lastRefusal() const { return last_refusal_; }

 private:
  // Each edits `next`, which shares every part of the previous snapshot; false with `errors`
  // on refusal.
  bool replaceAll(Snapshot& next, const config::Config& config,
                  std::vector<config::Error>& errors) const;
  bool upsertRoute(Snapshot& next, const config::Route& route,
                   std::vector<config::Error>& errors) const;
  bool removeRoute(Snapshot& next, const std::string& id, std::vector<config::Error>& errors) const;
  bool upsertService(Snapshot& next, const config::Service& service,
                     std::vector<config::Error>& errors) const;
  bool removeService(Snapshot& next, const std::string& name,
                     std::vector<config::Error>& errors) const;

  uint32_t worker_count_;
  mutable Refusal last_refusal_ = Refusal::kNone;
};

// Interned endpoint identities ("127.0.0.1:9091" -> 7), stable for the life of the process.
uint32_t endpointId(const std::string& address);

// Parses "IP:PORT" / "[IPv6]:PORT"; false with a reason on error.
bool parseSocketAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                        std::string* why = nullptr);

}  // namespace turnout::route
