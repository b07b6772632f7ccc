// Active checks: following the configuration (one check per endpoint id, settings and Host)
// and turning results into the endpoint's check_failed. Runs on the health thread.
#include <algorithm>

#include "core/log.h"
#include "health/health_service_impl.h"

namespace turnout::health {
namespace {

// Host: the check's own, else the name a DNS-named endpoint is sent with, else its address.
std::string hostFor(const config::HealthCheck& check, const route::Endpoint& endpoint) {
  if (!check.host.empty()) return check.host;
  if (!endpoint.hostname.empty()) return endpoint.hostname;
  return endpoint.address;
}

ProbeSpec probeSpec(const route::Endpoint& endpoint, const config::HealthCheck& check,
                    const std::string& host) {
  ProbeSpec spec;
  spec.address = endpoint.sockaddr;
  spec.address_len = endpoint.sockaddr_len;
  spec.http = check.type == "http";
  if (spec.http) spec.request = healthRequest(check.path, host);
  spec.expected_statuses = check.expected_statuses;
  spec.timeout_ms = std::max<uint32_t>(1, check.timeout_ms);
  return spec;
}

std::string describe(const ActiveCheck& check) {
  std::string text = check.address + " (" + check.settings().type + " check";
  if (check.settings().type == "http") text += " of " + check.settings().path;
  return text + ")";
}

}  // namespace

// ---- One check -----------------------------------------------------------------------------

ActiveCheck::ActiveCheck(HealthService::Impl& owner, const route::Endpoint& endpoint,
                         const config::HealthCheck& settings, std::string host, bool start_failed)
    : id(endpoint.id),
      address(endpoint.address),
      verdict(settings.healthy, settings.unhealthy, start_failed),
      owner_(owner),
      settings_(settings),
      host_(std::move(host)),
      probe_(owner.loop(), probeSpec(endpoint, settings, host_),
             [this](bool success, const std::string& why) { onResult(success, why); }),
      next_([this] { probe_.run(); }) {}

void ActiveCheck::scheduleFirst(uint64_t delay_ms) { next_.arm(owner_.loop().timers(), delay_ms); }

// The interval runs from one result to the next check (as Envoy's does), so a check never
// overlaps the previous one, even when it waits for its timeout.
void ActiveCheck::onResult(bool success, const std::string& why) {
  const bool changed = verdict.record(success);
  next_.arm(owner_.loop().timers(),
            nextCheckDelayMs(settings_.interval_ms, settings_.jitter_ms, owner_.rng()));
  owner_.onCheckResult(*this, success, why, changed);
}

void HealthService::Impl::onCheckResult(ActiveCheck& check, bool success, const std::string& why,
                                        bool changed) {
  for (ServiceCounters* counters : check.services) {
    (success ? counters->checks_passed : counters->checks_failed).add();
  }
  if (changed) {
    logTransition(check, why);
    writeCheckFailed(check.id);
  }
  // Envoy's successful_active_health_check_uneject_host: a passing check ends an ejection.
  if (success && ejections_.count(check.id) > 0) unEject(check.id, "its active check passed");
}

void HealthService::Impl::logTransition(const ActiveCheck& check, const std::string& why) {
  const CheckVerdict& verdict = check.verdict;
  const std::string what = "health: " + describe(check);
  if (verdict.failed()) {
    core::logLine(core::LogLevel::kInfo, what + " failed " +
                                             std::to_string(verdict.consecutiveFailures()) +
                                             " times in a row, last: " + why + "; marked failed");
  } else {
    core::logLine(core::LogLevel::kInfo, what + " passed " +
                                             std::to_string(verdict.consecutiveSuccesses()) +
                                             " times in a row; healthy again");
  }
}

// ---- Following the configuration ------------------------------------------------------------

void HealthService::Impl::apply(std::shared_ptr<const route::Snapshot> snapshot) {
  WantedChecks wanted = wantedChecks(*snapshot);
  std::unordered_set<uint32_t> touched;
  syncChecks(wanted, touched);
  createChecks(wanted, touched);
  refreshCheckedState(touched);
  current_ = std::move(snapshot);
  forgetRemovedServices(*current_);
  noteNewEndpoints(*current_);
}

// Slow start ramps an endpoint from when it joined: give every endpoint of a ramping service a
// state (first seen now) the first time a configuration names it.
void HealthService::Impl::noteNewEndpoints(const route::Snapshot& snapshot) {
  bool created = false;
  for (const auto& service : snapshot.services()) {
    if (service->source.slow_start_ms == 0) continue;
    for (const route::Endpoint& endpoint : service->all->endpoints()) {
      if (states_.find(endpoint.id) != nullptr) continue;
      states_.ensure(endpoint.id, loop_.nowMs());
      created = true;
    }
  }
  if (created) states_.bumpGeneration();
}

// Every (endpoint id, settings, Host) some service wants checked, with the services asking.
HealthService::Impl::WantedChecks HealthService::Impl::wantedChecks(
    const route::Snapshot& snapshot) {
  WantedChecks wanted;
  for (const auto& service : snapshot.services()) {
    const config::HealthCheck& check = service->source.health_check;
    if (!check.enabled()) continue;
    ServiceCounters* counters = countersFor(service->source.name);
    for (const route::Endpoint& endpoint : service->all->endpoints()) {
      if (endpoint.sockaddr_len == 0) continue;  // a DNS name without an address: nothing to check
      std::string host = hostFor(check, endpoint);
      std::vector<WantedCheck>& same_id = wanted[endpoint.id];
      auto it = std::find_if(same_id.begin(), same_id.end(), [&](const WantedCheck& w) {
        return *w.settings == check && w.host == host;
      });
      if (it == same_id.end()) {
        same_id.push_back({&endpoint, &check, std::move(host), {}});
        it = same_id.end() - 1;
      }
      if (std::find(it->services.begin(), it->services.end(), counters) == it->services.end()) {
        it->services.push_back(counters);
      }
    }
  }
  return wanted;
}

// Keeps the checks still wanted (with their verdicts and schedules) and drops the others; what
// is kept is erased from `wanted`, so only new checks remain there.
void HealthService::Impl::syncChecks(WantedChecks& wanted, std::unordered_set<uint32_t>& touched) {
  for (auto it = checks_.begin(); it != checks_.end();) {
    auto& running = it->second;
    auto found = wanted.find(it->first);
    const size_t before = running.size();
    std::erase_if(running, [&](const std::unique_ptr<ActiveCheck>& check) {
      if (found == wanted.end()) return true;
      auto& candidates = found->second;
      auto match = std::find_if(candidates.begin(), candidates.end(), [&](const WantedCheck& w) {
        return w.endpoint != nullptr && check->sameCheck(*w.settings, w.host);
      });
      if (match == candidates.end()) return true;
      check->services = std::move(match->services);
      match->endpoint = nullptr;  // taken
      return false;
    });
    if (running.size() != before) touched.insert(it->first);
    it = running.empty() ? checks_.erase(it) : std::next(it);
  }
}

void HealthService::Impl::createChecks(WantedChecks& wanted,
                                       std::unordered_set<uint32_t>& touched) {
  for (auto& [id, candidates] : wanted) {
    for (WantedCheck& w : candidates) {
      if (w.endpoint == nullptr) continue;
      const EndpointState* state = states_.find(id);
      const bool failed_now =
          state != nullptr && state->check_failed.load(std::memory_order_relaxed);
      auto check =
          std::make_unique<ActiveCheck>(*this, *w.endpoint, *w.settings, w.host, failed_now);
      check->services = std::move(w.services);
      check->scheduleFirst(firstCheckDelayMs(w.settings->interval_ms, rng_));
      checks_[id].push_back(std::move(check));
      touched.insert(id);
    }
  }
}

// For every endpoint whose checks changed: whether it is checked at all (the admin view) and
// whether it is failed (an endpoint no check covers any more is not failed).
void HealthService::Impl::refreshCheckedState(const std::unordered_set<uint32_t>& touched) {
  size_t count = 0;
  for (const auto& [id, running] : checks_) count += running.size();
  {
    std::lock_guard lock(view_mutex_);
    for (uint32_t id : touched) {
      if (checks_.count(id) > 0) {
        checked_ids_.insert(id);
      } else {
        checked_ids_.erase(id);
      }
    }
    check_count_ = count;
  }
  for (uint32_t id : touched) writeCheckFailed(id);
}

// check_failed = any of the endpoint's checks says failed; the generation moves only when
// that changes.
void HealthService::Impl::writeCheckFailed(uint32_t id) {
  bool failed = false;
  if (auto it = checks_.find(id); it != checks_.end()) {
    for (const auto& check : it->second) failed = failed || check->verdict.failed();
  }
  const EndpointState* known = states_.find(id);
  if (known == nullptr && !failed) return;  // never written: already healthy
  EndpointState& state = states_.ensure(id, loop_.nowMs());
  if (state.check_failed.load(std::memory_order_relaxed) == failed) return;
  state.check_failed.store(failed, std::memory_order_relaxed);
  states_.bumpGeneration();
}

ServiceCounters* HealthService::Impl::countersFor(const std::string& service) {
  auto it = counters_.find(service);
  if (it != counters_.end()) return it->second.get();
  std::lock_guard lock(view_mutex_);
  return counters_.emplace(service, std::make_unique<ServiceCounters>()).first->second.get();
}

// Counters of services that left the configuration go with them (no check points at them any
// more: syncChecks() gave every check its new list of services).
void HealthService::Impl::forgetRemovedServices(const route::Snapshot& snapshot) {
  std::lock_guard lock(view_mutex_);
  std::erase_if(counters_,
                [&](const auto& entry) { return snapshot.service(entry.first) == nullptr; });
}

}  // namespace turnout::health
