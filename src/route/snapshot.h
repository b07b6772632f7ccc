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
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/identity.h"
#include "config/model.h"
#include "http/message.h"
#include "route/balancer.h"
#include "route/retry_rules.h"
#include "upstream/service_load.h"

namespace re2 {
class RE2;
}

namespace turnout::observe {
struct RouteSeries;
}  // namespace turnout::observe

namespace turnout::route {

// The addresses a DNS name has now (the resolver's answer); IP endpoints never ask.
struct NameAddresses {
  std::vector<std::string> addresses;
  std::string error;  // when there is no address: why
};
using NameLookup = std::function<NameAddresses(const std::string& name)>;

struct CompiledService {
  config::Service source;
  // Its load for the circuit breakers: the same object for every compilation of this name.
  std::shared_ptr<upstream::ServiceLoad> load;
  std::shared_ptr<const EndpointSet> all;  // every endpoint
  std::vector<std::pair<std::string, std::shared_ptr<const EndpointSet>>> by_version;
  const EndpointSet* forVersion(std::string_view version) const;  // "" = all; nullptr if unknown
};

// Request conditions compiled from a config::RequestMatch: a version selector or a fault's
// trigger. Every listed condition must hold.
struct CompiledConditions {
  std::vector<std::pair<std::string, std::unique_ptr<re2::RE2>>> headers;
  std::vector<std::pair<std::string, std::string>> cookies;  // name, exact value
  bool never = false;  // its source is not this proxy's identity: it cannot hold here
  std::vector<CompiledConditions> none;  // and none of these may hold

  CompiledConditions();
  CompiledConditions(CompiledConditions&&) noexcept;
  CompiledConditions& operator=(CompiledConditions&&) noexcept;
  ~CompiledConditions();
  bool matches(const std::vector<http::HeaderField>& request_headers) const;
};

// Each worker's metric series for one route or split target, looked up by name on that
// worker's first request and cached here for the object's life (the series itself lives in
// the worker's registry, so counts survive recompiles). Slot w belongs to worker w alone.
class SeriesCache {
 public:
  explicit SeriesCache(uint32_t worker_count = 1)
      : slots_(new observe::RouteSeries*[worker_count]()) {}
  observe::RouteSeries*& slot(uint32_t worker) const { return slots_[worker]; }

 private:
  std::unique_ptr<observe::RouteSeries*[]> slots_;
};

struct CompiledTarget {
  std::string service;
  std::string version;
  uint32_t weight = 0;
  uint64_t cumulative = 0;  // running weight sum over the weighted targets, for the draw
  // What the sticky cookie holds for this target: the version, or "service:version" when the
  // split spans several services.
  std::string label;
  std::unique_ptr<CompiledConditions> selector;  // set: taken on a match, never drawn
  SeriesCache series;
};

// The sticky cookie's lines, built once per route: the data path only picks one.
struct CompiledSticky {
  std::string cookie;       // "" = not sticky
  std::string set_prefix;   // "Set-Cookie: version="
  std::string set_suffix;   // "; Path=/helloworld\r\n"
  std::string expire_line;  // "Set-Cookie: version=; Path=/helloworld; Max-Age=0; Expires=...\r\n"
  bool several_labels = false;  // otherwise there is nothing to stick to
};

// What version selection decided for one request.
struct VersionPick {
  const CompiledTarget* target = nullptr;  // nullptr: no target has a positive weight
  enum class Cookie : uint8_t { kKeep, kSet, kExpire } cookie = Cookie::kKeep;
};

struct CompiledFault {
  CompiledConditions when;
  std::string version;  // "" = any picked version
  std::optional<config::FaultDelay> delay;
  std::optional<config::FaultAbort> abort;
  uint32_t delay_ppm = 0;  // percent as parts per million
  uint32_t abort_ppm = 0;
  std::string trigger_header;  // the first header of `when`, for the access log's gremlin fields
};

// The faults one request gets: delays add up, the first abort that fires wins.
struct FaultPlan {
  uint32_t delay_ms = 0;
  uint32_t abort_status = 0;       // 0 = no abort
  bool drop = false;               // close the client connection instead of answering
  std::string_view trigger_name;   // header that triggered the first applied fault (or "")
  std::string_view trigger_value;  // its value in the request
  bool any() const { return delay_ms > 0 || abort_status != 0 || drop; }
};

// Draws in [0, 1'000'000): a fault with percent p fires when draw < p * 10'000.
inline constexpr uint32_t kPpm = 1'000'000;

struct CompiledRoute {
  config::Route source;
  enum class HostKind : uint8_t { kAny, kExact, kWildcard } host_kind = HostKind::kAny;
  std::string host;  // lowercased; for kWildcard the suffix with its dot (".example.com")
  std::vector<std::pair<std::string, std::unique_ptr<re2::RE2>>> headers;
  std::vector<std::pair<std::string, std::string>> cookies;  // name, exact value
  bool never = false;                    // match.source is not this proxy's identity
  std::vector<CompiledConditions> none;  // match.none: any of these holding rejects the request
  std::vector<CompiledTarget> targets;
  uint64_t total_weight = 0;  // of the targets without a selector
  bool has_selectors = false;
  CompiledSticky sticky;
  std::vector<CompiledFault> faults;  // only those whose source is this proxy's identity
  uint64_t rank = 0;                  // position in the global match order (lower wins)
  SeriesCache series;                 // requests answered before a target was picked
  RetryRules retries;

  ~CompiledRoute();
  // path_prefix or path_separated_prefix, whichever is set ("" for none).
  std::string_view prefix() const;
  bool matchesRequest(std::string_view path, const std::vector<http::HeaderField>& headers) const;
  // Weighted pick of a split target among those without a selector; nullptr when every weight
  // is 0.
  const CompiledTarget* pickTarget(std::mt19937_64& rng) const;
  // Version selection: the sticky cookie while its target still exists, then the first
  // selector that matches, then the weighted draw.
  VersionPick pickVersion(const std::vector<http::HeaderField>& headers,
                          std::mt19937_64& rng) const;
  // The faults that fire for this request once `target` is picked.
  FaultPlan planFaults(const CompiledTarget& target, const std::vector<http::HeaderField>& headers,
                       std::mt19937_64& rng) const;
  // The path sent upstream: with strip_prefix, the matched prefix removed ("/" if nothing is left).
  std::string upstreamPath(std::string_view path) const;
};

// The value of cookie `name` in the request's Cookie headers; sets *found.
std::string_view findCookie(const std::vector<http::HeaderField>& headers, std::string_view name,
                            bool* found);

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
  // The page file content for `status` on listener `listener_name`, or nullptr (built-in).
  const std::string* errorPage(std::string_view listener_name, int status) const;
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
  // `identity` is the caller this proxy stands for (--identity): routes, selectors and faults
  // scoped to another source are compiled inert.
  explicit Compiler(uint32_t worker_count, config::Identity identity = {}, NameLookup names = {})
      : worker_count_(worker_count), identity_(std::move(identity)), names_(std::move(names)) {}

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
  config::Identity identity_;
  NameLookup names_;
  mutable Refusal last_refusal_ = Refusal::kNone;
};

// Interned endpoint identities ("127.0.0.1:9091" -> 7), stable for the life of the process.
uint32_t endpointId(const std::string& address);

// The DNS name of a valid endpoint address ("api.example.com" of "api.example.com:443"), or ""
// when it is an IP literal.
std::string_view dnsNameOf(std::string_view address);

// Parses "IP:PORT" / "[IPv6]:PORT"; false with a reason on error.
bool parseSocketAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                        std::string* why = nullptr);

}  // namespace turnout::route
