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

BalancerSettings balancerSettingsOf(const config::Service& source) {
  BalancerSettings settings;
  settings.lb = lbPolicyOf(source.lb);
  settings.hash = source.hash;
  settings.panic_threshold_percent = source.panic_threshold_percent;
  settings.slow_start_ms = source.slow_start_ms;
  return settings;
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

// "api.example.com:443" -> one endpoint per address the name has now; none known yet (or the
// name does not resolve): one unresolved endpoint, which answers 502 saying why.
void appendNamedEndpoints(const config::Endpoint& source, const NameLookup& names,
                          std::vector<Endpoint>& out) {
  const std::string name(dnsNameOf(source.address));
  const std::string port = source.address.substr(name.size() + 1);
  const std::string hostname = port == "80" ? name : source.address;
  NameAddresses found = names ? names(name) : NameAddresses{{}, "no resolver"};
  for (const std::string& ip : found.addresses) {
    config::Endpoint resolved = source;
    resolved.address = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + port;
    Endpoint endpoint = compileEndpoint(resolved);
    endpoint.hostname = hostname;
    out.push_back(std::move(endpoint));
  }
  if (!found.addresses.empty()) return;
  Endpoint endpoint;
  endpoint.id = endpointId(source.address);
  endpoint.address = source.address;
  endpoint.version = source.version;
  endpoint.weight = source.weight;
  endpoint.hostname = hostname;
  endpoint.unresolved = found.error.empty() ? "not resolved yet" : found.error;
  out.push_back(std::move(endpoint));
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
  return r.prefix().empty() ? 2 : 1;
}

auto sortKey(const CompiledRoute& r) {
  size_t suffix = r.host_kind == CompiledRoute::HostKind::kWildcard ? r.host.size() : 0;
  size_t prefix = r.prefix().size();
  // Negated where larger is more specific, so the whole tuple sorts ascending.
  return std::make_tuple(-static_cast<int64_t>(r.source.priority), hostClass(r),
                         -static_cast<int64_t>(suffix), pathClass(r), -static_cast<int64_t>(prefix),
                         -static_cast<int64_t>(r.headers.size()));
}

std::unique_ptr<RE2> compilePattern(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

CompiledConditions compileConditions(const config::RequestMatch& match,
                                     const config::Identity& identity) {
  CompiledConditions out;
  for (const auto& [name, pattern] : match.headers) {
    out.headers.emplace_back(name, compilePattern(pattern));
  }
  out.cookies.assign(match.cookies.begin(), match.cookies.end());
  out.never = !identity.matches(match.source);
  for (const config::RequestMatch& clause : match.none) {
    out.none.push_back(compileConditions(clause, identity));
  }
  return out;
}

// The sticky cookie value of each target: its version, unless the split spans services.
void labelTargets(std::vector<CompiledTarget>& targets) {
  bool one_service = true;
  for (const CompiledTarget& target : targets) {
    one_service = one_service && target.service == targets.front().service;
  }
  for (CompiledTarget& target : targets) {
    target.label = one_service ? target.version : target.service + ":" + target.version;
  }
}

void compileTargets(const config::Route& source, const config::Identity& identity,
                    uint32_t worker_count, CompiledRoute& route) {
  for (const config::SplitTarget& target : source.split) {
    CompiledTarget compiled{target.service, target.version,           target.weight, 0, "",
                            nullptr,        SeriesCache(worker_count)};
    if (!target.match.empty()) {
      compiled.selector =
          std::make_unique<CompiledConditions>(compileConditions(target.match, identity));
      route.has_selectors = true;
    } else {
      route.total_weight += target.weight;
      compiled.cumulative = route.total_weight;
    }
    route.targets.push_back(std::move(compiled));
  }
  labelTargets(route.targets);
}

void compileSticky(const config::Route& source, CompiledRoute& route) {
  CompiledSticky& sticky = route.sticky;
  sticky.cookie = source.sticky.cookie;
  if (sticky.cookie.empty()) return;
  std::string path = source.sticky.path;
  if (path.empty()) path = route.prefix().empty() ? "/" : std::string(route.prefix());
  sticky.set_prefix = "Set-Cookie: " + sticky.cookie + "=";
  sticky.set_suffix = "; Path=" + path + "\r\n";
  sticky.expire_line = "Set-Cookie: " + sticky.cookie + "=; Path=" + path +
                       "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n";
  for (const CompiledTarget& target : route.targets) {
    sticky.several_labels = sticky.several_labels || target.label != route.targets.front().label;
  }
}

uint32_t toPpm(double percent) { return static_cast<uint32_t>(percent * 10000.0 + 0.5); }

void compileFaults(const config::Route& source, const config::Identity& identity,
                   CompiledRoute& route) {
  for (const config::Fault& fault : source.faults) {
    if (!identity.matches(fault.match.source)) continue;  // scoped to another caller
    CompiledFault compiled;
    compiled.when = compileConditions(fault.match, identity);
    compiled.version = fault.version;
    compiled.delay = fault.delay;
    compiled.abort = fault.abort;
    if (fault.delay) compiled.delay_ppm = toPpm(fault.delay->percent);
    if (fault.abort) compiled.abort_ppm = toPpm(fault.abort->percent);
    if (!fault.match.headers.empty()) compiled.trigger_header = fault.match.headers.begin()->first;
    route.faults.push_back(std::move(compiled));
  }
}

}  // namespace

std::unique_ptr<CompiledRoute> compileRoute(const config::Route& source,
                                            const config::Identity& identity,
                                            uint32_t worker_count) {
  auto route = std::make_unique<CompiledRoute>();
  route->series = SeriesCache(worker_count);
  route->source = source;
  route->retries = RetryRules(source.retries);
  compileHost(source.match.host, *route);
  for (const auto& [name, pattern] : source.match.headers) {
    route->headers.emplace_back(name, compilePattern(pattern));
  }
  route->cookies.assign(source.match.cookies.begin(), source.match.cookies.end());
  route->never = !identity.matches(source.match.source);
  for (const config::RequestMatch& clause : source.match.none) {
    route->none.push_back(compileConditions(clause, identity));
  }
  compileTargets(source, identity, worker_count, *route);
  compileSticky(source, *route);
  compileFaults(source, identity, *route);
  return route;
}

std::shared_ptr<const CompiledService> compileService(const config::Service& source,
                                                      uint32_t worker_count,
                                                      const NameLookup& names) {
  auto service = std::make_shared<CompiledService>();
  service->source = source;
  service->load = upstream::serviceLoad(source.name, worker_count);
  const BalancerSettings balancer = balancerSettingsOf(source);
  std::vector<Endpoint> all;
  all.reserve(source.endpoints.size());
  for (const config::Endpoint& endpoint : source.endpoints) {
    Endpoint compiled = compileEndpoint(endpoint);  // parses the address once
    if (compiled.sockaddr_len != 0) {
      all.push_back(std::move(compiled));
    } else {
      appendNamedEndpoints(endpoint, names, all);
    }
  }
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
        version, std::make_shared<const EndpointSet>(std::move(endpoints), balancer, worker_count));
  }
  service->all = std::make_shared<const EndpointSet>(std::move(all), balancer, worker_count);
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
