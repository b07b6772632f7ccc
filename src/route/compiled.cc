// What one compiled route and service answer on the request path.
#include <re2/re2.h>

#include <algorithm>

#include "route/snapshot.h"

namespace turnout::route {
namespace {

bool headerMatches(const std::string& name, const re2::RE2& pattern,
                   const std::vector<http::HeaderField>& headers) {
  // A header sent several times matches if any of its values does.
  for (const http::HeaderField& field : headers) {
    if (http::equalsIgnoreCase(field.name, name) &&
        RE2::PartialMatch(re2::StringPiece(field.value.data(), field.value.size()), pattern)) {
      return true;
    }
  }
  return false;
}

bool cookiesMatch(const std::vector<std::pair<std::string, std::string>>& cookies,
                  const std::vector<http::HeaderField>& headers) {
  for (const auto& [name, value] : cookies) {
    bool found = false;
    if (findCookie(headers, name, &found) != value || !found) return false;
  }
  return true;
}

bool headersMatch(const std::vector<std::pair<std::string, std::unique_ptr<re2::RE2>>>& patterns,
                  const std::vector<http::HeaderField>& headers) {
  for (const auto& [name, pattern] : patterns) {
    if (!headerMatches(name, *pattern, headers)) return false;
  }
  return true;
}

bool draw(std::mt19937_64& rng, uint32_t ppm) {
  if (ppm >= kPpm) return true;
  return ppm > 0 && rng() % kPpm < ppm;
}

// A non-negative decimal integer header value no larger than `max`; false otherwise.
bool headerNumber(const std::vector<http::HeaderField>& headers, std::string_view name,
                  uint64_t max, uint64_t& out) {
  for (const http::HeaderField& field : headers) {
    if (!http::equalsIgnoreCase(field.name, name)) continue;
    std::string_view text = field.value;
    if (text.empty() || text.size() > 10) return false;
    uint64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > max) return false;
    out = value;
    return true;
  }
  return false;
}

// Envoy's header-controlled faults: the percentage header can only lower the configured one.
uint32_t headerPpm(const std::vector<http::HeaderField>& headers, std::string_view name,
                   uint32_t configured) {
  uint64_t percent = 0;
  if (!headerNumber(headers, name, 100, percent)) return configured;
  return std::min<uint32_t>(configured, static_cast<uint32_t>(percent) * 10000);
}

void applyDelay(const CompiledFault& fault, const std::vector<http::HeaderField>& headers,
                std::mt19937_64& rng, FaultPlan& plan, bool& applied) {
  const config::FaultDelay& delay = *fault.delay;
  uint64_t ms = delay.ms;
  uint32_t ppm = fault.delay_ppm;
  if (delay.from_header) {
    if (!headerNumber(headers, "x-envoy-fault-delay-request", 3'600'000, ms) || ms == 0) return;
    ppm = headerPpm(headers, "x-envoy-fault-delay-request-percentage", ppm);
  }
  if (!draw(rng, ppm)) return;
  plan.delay_ms = static_cast<uint32_t>(std::min<uint64_t>(plan.delay_ms + ms, 3'600'000));
  applied = true;
}

void applyAbort(const CompiledFault& fault, const std::vector<http::HeaderField>& headers,
                std::mt19937_64& rng, FaultPlan& plan, bool& applied) {
  if (plan.abort_status != 0 || plan.drop) return;  // the first abort wins
  const config::FaultAbort& abort = *fault.abort;
  uint64_t status = abort.status;
  uint32_t ppm = fault.abort_ppm;
  if (abort.from_header) {
    if (!headerNumber(headers, "x-envoy-fault-abort-request", 599, status) || status < 200) return;
    ppm = headerPpm(headers, "x-envoy-fault-abort-request-percentage", ppm);
  }
  if (!draw(rng, ppm)) return;
  plan.drop = abort.drop;
  plan.abort_status = abort.drop ? 0 : static_cast<uint32_t>(status);
  applied = true;
}

}  // namespace

std::string_view findCookie(const std::vector<http::HeaderField>& headers, std::string_view name,
                            bool* found) {
  *found = false;
  for (const http::HeaderField& field : headers) {
    if (!http::equalsIgnoreCase(field.name, "cookie")) continue;
    std::string_view rest = field.value;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      *found = true;
      return value;
    }
  }
  return {};
}

CompiledConditions::CompiledConditions() = default;
CompiledConditions::CompiledConditions(CompiledConditions&&) noexcept = default;
CompiledConditions& CompiledConditions::operator=(CompiledConditions&&) noexcept = default;
CompiledConditions::~CompiledConditions() = default;

bool CompiledConditions::matches(const std::vector<http::HeaderField>& request_headers) const {
  if (never || !headersMatch(headers, request_headers) || !cookiesMatch(cookies, request_headers)) {
    return false;
  }
  for (const CompiledConditions& clause : none) {
    if (clause.matches(request_headers)) return false;
  }
  return true;
}

const EndpointSet* CompiledService::forVersion(std::string_view version) const {
  if (version.empty()) return all.get();
  for (const auto& [name, set] : by_version) {
    if (name == version) return set.get();
  }
  return nullptr;
}

CompiledRoute::~CompiledRoute() = default;

std::string_view CompiledRoute::prefix() const {
  const config::RouteMatch& match = source.match;
  return match.path_prefix.empty() ? std::string_view(match.path_separated_prefix)
                                   : std::string_view(match.path_prefix);
}

// The host was matched by the index; this checks the rest. A path prefix is a plain string
// prefix, so "/api" also matches "/apix" (Envoy does the same): write "/api/" to mean a segment,
// or use path_separated_prefix.
bool CompiledRoute::matchesRequest(std::string_view path,
                                   const std::vector<http::HeaderField>& request_headers) const {
  if (never) return false;
  const config::RouteMatch& match = source.match;
  if (!match.path.empty() && path != match.path) return false;
  if (!match.path_prefix.empty() && !path.starts_with(match.path_prefix)) return false;
  const std::string& separated = match.path_separated_prefix;
  if (!separated.empty() && !(path.starts_with(separated) &&
                              (path.size() == separated.size() || path[separated.size()] == '/'))) {
    return false;
  }
  if (!headersMatch(headers, request_headers) || !cookiesMatch(cookies, request_headers)) {
    return false;
  }
  for (const CompiledConditions& clause : none) {
    if (clause.matches(request_headers)) return false;
  }
  return true;
}

VersionPick CompiledRoute::pickVersion(const std::vector<http::HeaderField>& request_headers,
                                       std::mt19937_64& rng) const {
  VersionPick pick;
  bool has_cookie = false;
  std::string_view cookie;
  if (!sticky.cookie.empty()) cookie = findCookie(request_headers, sticky.cookie, &has_cookie);
  if (has_cookie && sticky.several_labels) {
    for (const CompiledTarget& target : targets) {
      if (target.label == cookie) {
        pick.target = &target;
        return pick;
      }
    }
  }
  if (has_selectors) {
    for (const CompiledTarget& target : targets) {
      if (target.selector && target.selector->matches(request_headers)) {
        pick.target = &target;
        break;
      }
    }
  }
  if (pick.target == nullptr) pick.target = pickTarget(rng);
  if (sticky.cookie.empty() || pick.target == nullptr) return pick;
  // A stale or forged cookie is replaced; with one version only there is nothing to stick to,
  // and a leftover cookie is expired.
  if (sticky.several_labels) {
    pick.cookie = VersionPick::Cookie::kSet;
  } else if (has_cookie) {
    pick.cookie = VersionPick::Cookie::kExpire;
  }
  return pick;
}

FaultPlan CompiledRoute::planFaults(const CompiledTarget& target,
                                    const std::vector<http::HeaderField>& request_headers,
                                    std::mt19937_64& rng) const {
  FaultPlan plan;
  for (const CompiledFault& fault : faults) {
    if (!fault.version.empty() && fault.version != target.version) continue;
    if (!fault.when.matches(request_headers)) continue;
    bool applied = false;
    if (fault.delay) applyDelay(fault, request_headers, rng, plan, applied);
    if (fault.abort) applyAbort(fault, request_headers, rng, plan, applied);
    if (applied && plan.trigger_name.empty() && !fault.trigger_header.empty()) {
      plan.trigger_name = fault.trigger_header;
      for (const http::HeaderField& field : request_headers) {
        if (http::equalsIgnoreCase(field.name, fault.trigger_header)) {
          plan.trigger_value = field.value;
          break;
        }
      }
    }
  }
  return plan;
}

const CompiledTarget* CompiledRoute::pickTarget(std::mt19937_64& rng) const {
  if (total_weight == 0) return nullptr;
  uint64_t r = rng() % total_weight;
  // `cumulative` includes the target's own weight, so a weight 0 target is never the first
  // one above r.
  for (const CompiledTarget& target : targets) {
    if (r < target.cumulative) return &target;
  }
  return &targets.back();
}

std::string CompiledRoute::upstreamPath(std::string_view path) const {
  std::string_view prefix = this->prefix();
  if (!source.strip_prefix || prefix.empty() || !path.starts_with(prefix)) {
    return std::string(path);
  }
  std::string_view rest = path.substr(prefix.size());
  if (rest.starts_with('/')) return std::string(rest);
  std::string out = "/";
  out += rest;
  return out;
}

}  // namespace turnout::route
