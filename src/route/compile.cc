#include "route/compile.h"

#include <re2/re2.h>

#include <algorithm>
#include <tuple>

namespace turnout::route {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowerHost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (char& c : out) c = lower(c);
  return out;
}

void compileHost(const std::string& host, CompiledRoute& out) {
  if (host.empty()) {
    out.host_kind = CompiledRoute::HostKind::kAny;
  } else if (host.starts_with("*.")) {
    out.host_kind = CompiledRoute::HostKind::kWildcard;
    out.host = lowerHost(std::string_view(host).substr(1));  // keeps the dot: ".example.com"
  } else {
    out.host_kind = CompiledRoute::HostKind::kExact;
    out.host = lowerHost(host);
  }
}

LbPolicy lbPolicyOf(const std::string& name) {
  if (name == "random") return LbPolicy::kRandom;
  if (name == "least_request") return LbPolicy::kLeastRequest;
  return LbPolicy::kRoundRobin;
}

Endpoint compileEndpoint(const config::Endpoint& source) {
  Endpoint endpoint;
  endpoint.id = endpointId(source.address);
  endpoint.address = source.address;
  parseSocketAddress(source.address, endpoint.sockaddr, endpoint.sockaddr_len);
  endpoint.version = source.version;
  endpoint.weight = source.weight;
  return endpoint;
}

// Sort keys: smaller sorts first.
int hostClass(const CompiledRoute& r) {
  switch (r.host_kind) {
    case CompiledRoute::HostKind::kExact:
      return 0;
    case CompiledRoute::HostKind::kWildcard:
      return 1;
    case CompiledRoute::HostKind::kAny:
      return 2;
  }
  return 2;
}

int pathClass(const CompiledRoute& r) {
  if (!r.source.match.path.empty()) return 0;
  return r.source.match.path_prefix.empty() ? 2 : 1;
}

auto sortKey(const CompiledRoute& r) {
  size_t suffix = r.host_kind == CompiledRoute::HostKind::kWildcard ? r.host.size() : 0;
  size_t prefix = r.source.match.path_prefix.size();
  // Negated where larger is more specific, so the whole tuple sorts ascending.
  return std::make_tuple(-static_cast<int64_t>(r.source.priority), hostClass(r),
                         -static_cast<int64_t>(suffix), pathClass(r), -static_cast<int64_t>(prefix),
                         -static_cast<int64_t>(r.headers.size()));
}

}  // namespace

std::unique_ptr<CompiledRoute> compileRoute(const config::Route& source) {
  auto route = std::make_unique<CompiledRoute>();
  route->source = source;
  compileHost(source.match.host, *route);
  RE2::Options options;
  options.set_log_errors(false);
  for (const auto& [name, pattern] : source.match.headers) {
    route->headers.emplace_back(name, std::make_unique<RE2>(pattern, options));
  }
  for (const config::SplitTarget& target : source.split) {
    route->total_weight += target.weight;
    route->targets.push_back(
        CompiledTarget{target.service, target.version, target.weight, route->total_weight});
  }
  return route;
}

std::shared_ptr<const CompiledService> compileService(const config::Service& source,
                                                      uint32_t worker_count) {
  auto service = std::make_shared<CompiledService>();
  service->source = source;
  LbPolicy lb = lbPolicyOf(source.lb);
  std::vector<Endpoint> all;
  all.reserve(source.endpoints.size());
  for (const config::Endpoint& endpoint : source.endpoints)
    all.push_back(compileEndpoint(endpoint));
  // One set per version, in order of first appearance; versions are few, so a linear scan.
  std::vector<std::pair<std::string, std::vector<Endpoint>>> versions;
  for (const Endpoint& endpoint : all) {
    if (endpoint.version.empty()) continue;
    auto it = std::find_if(versions.begin(), versions.end(),
                           [&](const auto& v) { return v.first == endpoint.version; });
    if (it == versions.end()) it = versions.insert(versions.end(), {endpoint.version, {}});
    it->second.push_back(endpoint);
  }
  for (auto& [version, endpoints] : versions) {
    service->by_version.emplace_back(
        version, std::make_shared<const EndpointSet>(std::move(endpoints), lb, worker_count));
  }
  service->all = std::make_shared<const EndpointSet>(std::move(all), lb, worker_count);
  return service;
}

bool routeKeyLess(const CompiledRoute& a, const CompiledRoute& b) {
  return sortKey(a) < sortKey(b);
}

std::string_view normalizeRequestHost(std::string_view host, std::string& buffer) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  buffer.assign(host);
  for (char& c : buffer) c = lower(c);
  return buffer;
}

}  // namespace turnout::route
