#include "control/control_plane.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <unordered_set>

#include "config/load.h"
#include "core/log.h"

namespace turnout::control {
namespace {

constexpr std::string_view kConfigFileSource = "config-file";
constexpr std::string_view kInitialSource = "initial";

using Clock = std::chrono::steady_clock;

uint64_t microsBetween(Clock::time_point from, Clock::time_point to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

int statusFor(route::Refusal refusal) {
  switch (refusal) {
    case route::Refusal::kNotFound:
      return 404;
    case route::Refusal::kConflict:
      return 409;
    default:
      return 400;
  }
}

// Adds the command-line overlay to a stored configuration (the overlay's routes sort last:
// they carry the lowest priorities).
config::Config withOverlay(config::Config config, const config::Config& overlay) {
  config.services.insert(config.services.end(), overlay.services.begin(), overlay.services.end());
  config.routes.insert(config.routes.end(), overlay.routes.begin(), overlay.routes.end());
  return config;
}

}  // namespace

std::string digestOf(std::string_view bytes) {
  // FNV-1a, 64 bits: a change detector for one file, not a security measure.
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(hex) + ":" + std::to_string(bytes.size());
}

namespace {

// How long a change that names a new backend waits for its first DNS answer.
constexpr auto kFirstAnswerWait = std::chrono::milliseconds(1500);

// Adds the DNS names among `endpoints` to `names`.
void addDnsNames(const std::vector<config::Endpoint>& endpoints, std::set<std::string>& names) {
  for (const config::Endpoint& endpoint : endpoints) {
    std::string_view name = route::dnsNameOf(endpoint.address);
    if (!name.empty()) names.emplace(name);
  }
}

std::set<std::string> dnsNames(const std::vector<config::Service>& services) {
  std::set<std::string> names;
  for (const config::Service& service : services) addDnsNames(service.endpoints, names);
  return names;
}

bool usesAnyName(const std::vector<config::Endpoint>& endpoints,
                 const std::set<std::string>& names) {
  return std::any_of(endpoints.begin(), endpoints.end(), [&](const config::Endpoint& endpoint) {
    std::string_view name = route::dnsNameOf(endpoint.address);
    return !name.empty() && names.count(std::string(name)) > 0;
  });
}

route::NameLookup lookupThrough(dns::Resolver* resolver) {
  if (resolver == nullptr) return {};
  return [resolver](const std::string& name) {
    dns::Resolution found = resolver->lookup(name);
    route::NameAddresses out{std::move(found.addresses), std::move(found.error)};
    if (!found.answered && out.error.empty()) out.error = "no DNS answer yet";
    return out;
  };
}

}  // namespace

ControlPlane::ControlPlane(std::unique_ptr<store::Store> store, uint32_t worker_count,
                           config::Identity identity, dns::Resolver* resolver)
    : store_(std::move(store)),
      identity_(std::move(identity)),
      resolver_(resolver),
      compiler_(worker_count, identity_, lookupThrough(resolver)) {}

void ControlPlane::resolveNames(std::set<std::string> names, bool forget_others) {
  if (resolver_ == nullptr) return;
  if (forget_others) {
    for (const config::Service& service : overlay_.services) addDnsNames(service.endpoints, names);
    resolver_->track(names, kFirstAnswerWait);
  } else if (!names.empty()) {
    resolver_->add(names, kFirstAnswerWait);
  }
}

void ControlPlane::refreshNames(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!current_) return;
  const std::set<std::string> changed(names.begin(), names.end());
  std::shared_ptr<const route::Snapshot> next = current_;
  for (const auto& service : current_->services()) {
    if (!usesAnyName(service->source.endpoints, changed)) continue;
    route::Change change;
    change.kind = route::Change::Kind::kUpsertService;
    change.service = service->source;
    std::vector<config::Error> errors;
    auto compiled = compiler_.apply(next.get(), change, errors, next->revision());
    if (compiled) next = std::move(compiled);
  }
  if (next == current_) return;
  current_ = next;
  stats_.name_refreshes.add();
  if (publisher_) propagated_ = publisher_(next);
  if (!propagated_) stats_.propagation_failures.add();
}

std::shared_ptr<const route::Snapshot> ControlPlane::compileAll(
    const config::Config& config, uint64_t revision, std::vector<config::Error>& errors) {
  route::Change change;
  change.kind = route::Change::Kind::kReplaceAll;
  change.all = withOverlay(config, overlay_);
  return compiler_.apply(nullptr, change, errors, revision);
}

bool ControlPlane::boot(const config::Config* file, std::string_view file_digest,
                        config::Config overlay, std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  overlay_ = std::move(overlay);
  store::Snapshot stored;
  if (!store_->load(stored, error)) return false;

  // An empty store starts at revision 1 with the file's content, or with nothing: the store
  // and the running snapshot always agree on the revision.
  const bool apply_file =
      file != nullptr && (stored.revision == 0 || stored.config_file_digest != file_digest);
  const bool seed_empty = file == nullptr && stored.revision == 0;
  const config::Config& wanted = apply_file ? *file : stored.config;
  const uint64_t revision = apply_file || seed_empty ? stored.revision + 1 : stored.revision;
  // The resolver calls back only once a publisher is set: holding the lock here is safe.
  resolveNames(dnsNames(wanted.services), true);
  std::vector<config::Error> errors;
  auto snapshot = compileAll(wanted, revision, errors);
  if (!snapshot) {
    error = "the " + std::string(apply_file ? "configuration file" : "stored configuration") +
            " does not compile: " + (errors.empty() ? "" : config::formatError("", errors[0]));
    return false;
  }
  if (apply_file || seed_empty) {
    route::Change change;
    change.kind = route::Change::Kind::kReplaceAll;
    change.all = wanted;
    const std::string_view source = apply_file ? kConfigFileSource : kInitialSource;
    const std::string_view digest = apply_file ? file_digest : std::string_view();
    if (!store_->commit(change, revision, source, digest, error)) return false;
  }
  if (apply_file) {
    core::logLine(
        core::LogLevel::kInfo,
        stored.revision == 0
            ? "store seeded from the configuration file, revision " + std::to_string(revision)
            : "configuration file changed since it was last applied: applied as "
              "revision " +
                  std::to_string(revision));
  } else if (file != nullptr) {
    core::logLine(core::LogLevel::kInfo,
                  "configuration file unchanged since it was applied; the store (revision " +
                      std::to_string(stored.revision) + ") stands");
  }
  current_ = std::move(snapshot);
  return true;
}

void ControlPlane::setPublisher(Publisher publisher) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    publisher_ = std::move(publisher);
  }
  if (resolver_ != nullptr) {
    resolver_->setOnChange([this](const std::vector<std::string>& names) { refreshNames(names); });
  }
}

bool ControlPlane::touchesOverlay(const route::Change& change) const {
  using Kind = route::Change::Kind;
  switch (change.kind) {
    case Kind::kUpsertRoute:
      return ownedByCommandLine(change.route.id);
    case Kind::kUpsertService:
      return ownedByCommandLine(change.service.name);
    case Kind::kRemoveRoute:
    case Kind::kRemoveService:
      return ownedByCommandLine(change.name);
    case Kind::kReplaceAll: {
      for (const auto& s : change.all.services) {
        if (ownedByCommandLine(s.name)) return true;
      }
      for (const auto& r : change.all.routes) {
        if (ownedByCommandLine(r.id)) return true;
      }
      return false;
    }
  }
  return false;
}

bool ControlPlane::ownedByCommandLine(std::string_view name) const {
  for (const auto& s : overlay_.services) {
    if (s.name == name) return true;
  }
  for (const auto& r : overlay_.routes) {
    if (r.id == name) return true;
  }
  return false;
}

namespace {

// The name of the object an upsert writes, and whether `snapshot` already has it.
bool upsertTargetExists(const route::Snapshot& snapshot, const route::Change& change) {
  using Kind = route::Change::Kind;
  if (change.kind == Kind::kUpsertService) return snapshot.service(change.service.name) != nullptr;
  if (change.kind != Kind::kUpsertRoute) return false;
  return snapshot.hasRoute(change.route.id);
}

}  // namespace

ApplyResult ControlPlane::apply(route::Change change, std::optional<uint64_t> if_match,
                                std::string_view source, Expect expect) {
  std::lock_guard<std::mutex> writing(writer_mutex_);
  if (change.kind == route::Change::Kind::kReplaceAll) {
    resolveNames(dnsNames(change.all.services), true);
  }
  if (change.kind == route::Change::Kind::kUpsertService) {
    std::set<std::string> names;
    addDnsNames(change.service.endpoints, names);
    resolveNames(std::move(names), false);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return applyLocked(std::move(change), if_match, source, expect);
}

ApplyResult ControlPlane::replaceEndpoints(const std::string& name,
                                           std::vector<config::Endpoint> endpoints,
                                           std::optional<uint64_t> if_match,
                                           std::string_view source) {
  std::lock_guard<std::mutex> writing(writer_mutex_);
  std::set<std::string> names;
  addDnsNames(endpoints, names);
  resolveNames(std::move(names), false);
  std::lock_guard<std::mutex> lock(mutex_);
  const route::CompiledService* service = current_->service(name);
  if (service == nullptr) {
    ApplyResult result;
    result.status = 404;
    result.revision = current_->revision();
    result.errors.push_back({"name", 0, "service '" + name + "' not found"});
    return result;
  }
  route::Change change;
  change.kind = route::Change::Kind::kUpsertService;
  change.service = service->source;
  change.service.endpoints = std::move(endpoints);
  return applyLocked(std::move(change), if_match, source, Expect::kAny);
}

ApplyResult ControlPlane::applyLocked(route::Change change, std::optional<uint64_t> if_match,
                                      std::string_view source, Expect expect) {
  ApplyResult result = commitAndPublish(std::move(change), if_match, source, expect);
  if (result.status >= 500) {
    stats_.store_failures.add();
  } else if (result.status < 400) {
    stats_.applied.add();
    stats_.duration.observe(result.compile_us + result.commit_us + result.publish_us);
    if (!result.propagated) stats_.propagation_failures.add();
  }
  return result;
}

ApplyResult ControlPlane::commitAndPublish(route::Change change, std::optional<uint64_t> if_match,
                                           std::string_view source, Expect expect) {
  ApplyResult result;
  const uint64_t current = current_->revision();
  result.revision = current;
  if (if_match && *if_match != current) {
    result.status = 412;
    result.errors.push_back({"", 0,
                             "revision " + std::to_string(*if_match) +
                                 " is stale: the configuration is at revision " +
                                 std::to_string(current)});
    return result;
  }
  if (touchesOverlay(change)) {
    result.status = 409;
    result.errors.push_back({"", 0,
                             "this object comes from turnout's command line (--to or "
                             "--fallback) and cannot be changed through the API"});
    return result;
  }
  const bool exists = upsertTargetExists(*current_, change);
  if (expect == Expect::kAbsent && exists) {
    result.status = 409;
    result.errors.push_back({"name", 0, "already exists: use PUT to replace it"});
    return result;
  }
  const auto started = Clock::now();
  std::shared_ptr<const route::Snapshot> next;
  if (change.kind == route::Change::Kind::kReplaceAll) {
    next = compileAll(change.all, current + 1, result.errors);
    if (!next) result.status = 400;
  } else {
    next = compiler_.apply(current_.get(), change, result.errors, current + 1);
    if (!next) result.status = statusFor(compiler_.lastRefusal());
  }
  if (!next) return result;
  const auto compiled = Clock::now();
  result.compile_us = microsBetween(started, compiled);
  std::string error;
  const bool committed = store_->commit(change, current + 1, source, "", error);
  const auto stored = Clock::now();
  result.commit_us = microsBetween(compiled, stored);
  if (!committed) {
    result.status = 500;
    result.errors.push_back({"", 0, "the store refused the change: " + error});
    return result;
  }
  current_ = next;
  result.revision = current + 1;
  result.created = !exists && (change.kind == route::Change::Kind::kUpsertRoute ||
                               change.kind == route::Change::Kind::kUpsertService);
  if (publisher_) result.propagated = publisher_(next);
  result.publish_us = microsBetween(stored, Clock::now());
  propagated_ = result.propagated;
  return result;
}

std::shared_ptr<const route::Snapshot> ControlPlane::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

uint64_t ControlPlane::revision() const { return current()->revision(); }

bool ControlPlane::changesSince(uint64_t since, size_t limit, std::vector<store::ChangeRecord>& out,
                                bool* truncated, std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  return store_->changesSince(since, limit, out, truncated, error);
}

ApplyResult ControlPlane::replaceOwned(const std::string& owner,
                                       std::vector<config::Service> services,
                                       std::vector<config::Route> routes, std::string_view source) {
  std::lock_guard<std::mutex> writing(writer_mutex_);
  resolveNames(dnsNames(services), false);
  std::lock_guard<std::mutex> lock(mutex_);
  route::Change change;
  change.kind = route::Change::Kind::kReplaceAll;
  change.all = storedConfigOf(*current_);
  config::Config& all = change.all;
  std::erase_if(all.services, [&](const config::Service& s) { return s.owner == owner; });
  std::erase_if(all.routes, [&](const config::Route& r) { return r.owner == owner; });
  ApplyResult refused;
  refused.revision = current_->revision();
  refused.status = 409;
  std::unordered_set<std::string_view> taken_services, taken_routes;
  for (const auto& s : all.services) taken_services.insert(s.name);
  for (const auto& r : all.routes) taken_routes.insert(r.id);
  for (const auto& s : overlay_.services) taken_services.insert(s.name);
  for (const auto& r : overlay_.routes) taken_routes.insert(r.id);
  for (size_t i = 0; i < services.size(); ++i) {
    if (taken_services.count(services[i].name) > 0) {
      refused.errors.push_back({"services." + services[i].name, 0,
                                "a service of that name exists and is not managed here"});
    }
  }
  for (size_t i = 0; i < routes.size(); ++i) {
    if (taken_routes.count(routes[i].id) > 0) {
      refused.errors.push_back(
          {"routes." + routes[i].id, 0, "a route of that id exists and is not managed here"});
    }
  }
  if (!refused.errors.empty()) return refused;
  for (auto& s : services) all.services.push_back(std::move(s));
  for (auto& r : routes) all.routes.push_back(std::move(r));
  return applyLocked(std::move(change), std::nullopt, source, Expect::kAny);
}

config::Config ControlPlane::ownedBy(const std::string& owner) const {
  config::Config config = storedConfig();
  std::erase_if(config.services, [&](const config::Service& s) { return s.owner != owner; });
  std::erase_if(config.routes, [&](const config::Route& r) { return r.owner != owner; });
  config.listeners.clear();
  return config;
}

config::Config ControlPlane::storedConfig() const { return storedConfigOf(*current()); }

config::Config ControlPlane::storedConfigOf(const route::Snapshot& snapshot) const {
  config::Config config = snapshot.toConfig();
  std::unordered_set<std::string> overlay;
  for (const auto& s : overlay_.services) overlay.insert(s.name);
  for (const auto& r : overlay_.routes) overlay.insert(r.id);
  std::erase_if(config.services, [&](const auto& s) { return overlay.count(s.name) > 0; });
  std::erase_if(config.routes, [&](const auto& r) { return overlay.count(r.id) > 0; });
  return config;
}

}  // namespace turnout::control
