// The single writer of the configuration. A change is validated against the running snapshot
// and compiled, then committed to the store, then published to every worker, and only then
// acknowledged: what a client is told has happened is durable and already routing traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/identity.h"
#include "config/model.h"
#include "dns/resolver.h"
#include "observe/metrics.h"
#include "route/snapshot.h"
#include "store/store.h"

namespace turnout::control {

// What a write expects of the object it names (POST creates only; PUT creates or replaces).
enum class Expect : uint8_t { kAny, kAbsent };

struct ApplyResult {
  int status = 200;  // 200/201 done; 400 invalid; 404 unknown; 409 conflict; 412 stale; 500 store
  uint64_t revision = 0;  // the revision current after the call
  std::vector<config::Error> errors;
  bool propagated = true;  // every worker took the new snapshot within the publish wait
  bool created = false;    // an upsert that made a new object
  // Where the time went (microseconds): validate + compile, store commit (fsync included),
  // publication until every worker runs the new snapshot.
  uint64_t compile_us = 0, commit_us = 0, publish_us = 0;
};

// What the control plane did, for /metrics: written under the control mutex (one writer at a
// time), read from any thread.
struct ApplyStats {
  observe::ShardCounter applied;  // changes committed and published
  // Refused before anything changed (invalid, conflict, stale), wherever the refusal was
  // decided: the admin API counts them (any of its threads), so this one is a true atomic.
  std::atomic<uint64_t> rejected{0};
  observe::ShardCounter store_failures;        // valid, but the store could not commit it
  observe::ShardCounter propagation_failures;  // committed, but a worker took over 1 s to run it
  observe::ShardCounter name_refreshes;        // republished because a DNS answer changed
  observe::ShardHistogram duration;            // validate to published, of applied changes
};

// Hands a snapshot to the data plane; true once every worker runs it.
using Publisher = std::function<bool(std::shared_ptr<const route::Snapshot>)>;

class ControlPlane {
 public:
  // `resolver` (optional) keeps the DNS names of endpoints resolved; without one a named
  // endpoint stays unresolved (502).
  ControlPlane(std::unique_ptr<store::Store> store, uint32_t worker_count,
               config::Identity identity = {}, dns::Resolver* resolver = nullptr);

  // Loads the store and reconciles it with the configuration file, if any:
  //   - an empty store is seeded from the file (one change, source "config-file");
  //   - a file whose digest differs from the last one applied is applied once, as one
  //     replace-all change logged with source "config-file";
  //   - an unchanged file is ignored: changes made through the API since then stand.
  // `overlay` (the --to and --fallback routes) is compiled into every snapshot but never
  // stored: it belongs to the command line of this process. No publication yet.
  bool boot(const config::Config* file, std::string_view file_digest, config::Config overlay,
            std::string& error);
  // Where snapshots go from now on (the data plane exists once boot() succeeded).
  void setPublisher(Publisher publisher);

  // Applies one change. `if_match`: the revision the writer saw (412 when stale). Writers
  // are serialized.
  ApplyResult apply(route::Change change, std::optional<uint64_t> if_match, std::string_view source,
                    Expect expect = Expect::kAny);
  // Replaces the endpoints of service `name`, keeping the rest of it (404 if unknown).
  ApplyResult replaceEndpoints(const std::string& name, std::vector<config::Endpoint> endpoints,
                               std::optional<uint64_t> if_match, std::string_view source);
  // Replaces every service and route owned by `owner` (a compat API: "a8") with `services`
  // and `routes`, in one atomic change; other objects are kept as they are. A new object whose
  // name an object of another owner holds is a 409.
  ApplyResult replaceOwned(const std::string& owner, std::vector<config::Service> services,
                           std::vector<config::Route> routes, std::string_view source);
  // The resolver saw `names` change: services using them are recompiled and published (the
  // configuration and its revision do not change; nothing is stored).
  void refreshNames(const std::vector<std::string>& names);
  // False when the last publication left a worker behind (reported by /readyz).
  bool lastPublishPropagated() const { return propagated_; }
  const ApplyStats& stats() const { return stats_; }
  void countRejected() { stats_.rejected.fetch_add(1, std::memory_order_relaxed); }

  std::shared_ptr<const route::Snapshot> current() const;
  uint64_t revision() const;
  bool ownedByCommandLine(std::string_view route_or_service) const;
  bool changesSince(uint64_t since, size_t limit, std::vector<store::ChangeRecord>& out,
                    bool* truncated, std::string& error);
  // The stored configuration (without the command-line overlay), and the overlay.
  config::Config storedConfig() const;
  // The stored objects owned by `owner`.
  config::Config ownedBy(const std::string& owner) const;
  const config::Config& overlay() const { return overlay_; }
  const config::Identity& identity() const { return identity_; }

 private:
  std::shared_ptr<const route::Snapshot> compileAll(const config::Config& config, uint64_t revision,
                                                    std::vector<config::Error>& errors);
  bool touchesOverlay(const route::Change& change) const;
  config::Config storedConfigOf(const route::Snapshot& snapshot) const;
  // Makes the resolver know `names` before the services using them are compiled (waiting a
  // little for new ones); with `forget_others` they (and the command line's) are all the names
  // in use. Not called with mutex_ held once a publisher is set: the resolver then calls
  // refreshNames(), which takes it.
  void resolveNames(std::set<std::string> names, bool forget_others);
  // Counts the outcome of commitAndPublish() in stats_.
  ApplyResult applyLocked(route::Change change, std::optional<uint64_t> if_match,
                          std::string_view source, Expect expect);
  ApplyResult commitAndPublish(route::Change change, std::optional<uint64_t> if_match,
                               std::string_view source, Expect expect);

  // Held by a writer from resolving its names to publishing: another writer's replace-all
  // between the two would make the resolver forget names this one is about to compile. Not
  // taken by refreshNames(), which the resolver calls while a writer may be waiting on it.
  std::mutex writer_mutex_;
  mutable std::mutex mutex_;
  std::unique_ptr<store::Store> store_;
  config::Identity identity_;
  dns::Resolver* resolver_;
  route::Compiler compiler_;
  config::Config overlay_;
  Publisher publisher_;
  std::shared_ptr<const route::Snapshot> current_;
  std::atomic<bool> propagated_{true};
  ApplyStats stats_;
};

// A stable digest of a configuration file's bytes (hex), to notice when it changed.
std::string digestOf(std::string_view bytes);

}  // namespace turnout::control
