// paralarva's config.yaml in turnout's model, and the `fallback:` shorthand. A paralarva file
// becomes one listener, and per service one native service and one route on its domain; the
// checks mirror paralarva's own (helper.py) with turnout's field paths, so a file paralarva
// refuses is refused here, with the reason.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <climits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/address.h"
#include "config/checks.h"
#include "config/load.h"
#include "config/paralarva.h"

namespace turnout::config {
namespace {

void add(std::vector<Error>& errors, std::string field, std::string message) {
  errors.push_back(Error{std::move(field), 0, std::move(message)});
}

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool isIpv6(std::string_view address) { return address.find(':') != std::string_view::npos; }

// paralarva validates with ipaddress.ip_address(): IPv4 or IPv6 literals, never a host name.
bool isIpLiteral(const std::string& address) {
  in6_addr scratch;
  int family = isIpv6(address) ? AF_INET6 : AF_INET;
  return inet_pton(family, address.c_str(), &scratch) == 1;
}

// A port that failed to decode is left at 0; the decoder already reported it, and
// DecodeState::finish drops the repeat.
void checkAddress(const ParalarvaAddress& address, const std::string& path,
                  std::vector<Error>& errors) {
  std::string address_field = path + ".address";
  if (!address.address) {
    add(errors, address_field, "required");
  } else if (!isIpLiteral(*address.address)) {
    add(errors, address_field, "must be an IP address (host names are not accepted)");
  }
  if (!address.port) {
    add(errors, path + ".port", "required");
  } else if (*address.port == 0) {
    add(errors, path + ".port", "must be an integer between 1 and 65535");
  }
}

void checkName(const std::optional<std::string>& name, const std::string& field,
               std::vector<Error>& errors) {
  if (!name) return add(errors, field, "required");
  if (name->empty()) return add(errors, field, "must not be empty");
  if (!checks::isValidName(*name)) add(errors, field, checks::kNameRule);
}

void checkDomain(const std::optional<std::string>& domain, const std::string& field,
                 std::vector<Error>& errors) {
  if (!domain) return add(errors, field, "required");
  if (domain->empty()) return add(errors, field, "must not be empty");
  std::string why;
  if (!checks::checkHostName(*domain, &why)) add(errors, field, why);
}

void checkService(const ParalarvaService& service, const std::string& path,
                  std::vector<Error>& errors) {
  checkName(service.name, path + ".name", errors);
  checkDomain(service.domain, path + ".domain", errors);
  std::string hosts_field = path + ".hosts";
  if (!service.hosts) return add(errors, hosts_field, "required");
  if (service.hosts->empty()) return add(errors, hosts_field, "must not be empty");
  for (size_t i = 0; i < service.hosts->size(); ++i) {
    checkAddress((*service.hosts)[i], indexed(hosts_field, i), errors);
  }
}

// The form a request's Host is compared in: case and one trailing dot do not count.
std::string domainKey(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string key(domain);
  for (char& c : key) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return key;
}

// paralarva refuses a repeated name or domain: the second domain could never be reached.
void checkUnique(const std::vector<ParalarvaService>& services, const std::string& path,
                 std::vector<Error>& errors) {
  std::unordered_map<std::string, size_t> names, domains;
  for (size_t i = 0; i < services.size(); ++i) {
    const ParalarvaService& service = services[i];
    std::string base = indexed(path, i);
    if (service.name && !service.name->empty() && !names.emplace(*service.name, i).second) {
      add(errors, base + ".name", "duplicate name '" + *service.name + "'");
    }
    if (service.domain && !service.domain->empty() &&
        !domains.emplace(domainKey(*service.domain), i).second) {
      add(errors, base + ".domain", "duplicate domain '" + *service.domain + "'");
    }
  }
}

std::vector<Error> checkParalarva(const ParalarvaProxy& proxy) {
  std::vector<Error> errors;
  if (!proxy.listen) {
    add(errors, "proxy.listen", "required");
  } else {
    checkAddress(*proxy.listen, "proxy.listen", errors);
  }
  if (!proxy.services) {
    add(errors, "proxy.services", "required");
  } else if (proxy.services->empty()) {
    add(errors, "proxy.services", "must not be empty");
  } else {
    for (size_t i = 0; i < proxy.services->size(); ++i) {
      checkService((*proxy.services)[i], indexed("proxy.services", i), errors);
    }
    checkUnique(*proxy.services, "proxy.services", errors);
  }
  return errors;
}

std::string hostPort(const ParalarvaAddress& address) {
  const std::string& ip = address.address.value_or("");
  std::string port = std::to_string(address.port.value_or(0));
  return isIpv6(ip) ? "[" + ip + "]:" + port : ip + ":" + port;
}

// paralarva balances over its host list as written; a host listed twice gets twice the share,
// which is an endpoint of weight 2 here (turnout refuses repeated endpoint addresses).
std::vector<Endpoint> endpointsOf(const std::vector<ParalarvaAddress>& hosts) {
  std::vector<Endpoint> endpoints;
  std::unordered_map<std::string, size_t> index;
  for (const ParalarvaAddress& host : hosts) {
    std::string address = hostPort(host);
    auto [it, inserted] = index.emplace(address, endpoints.size());
    if (inserted) {
      endpoints.push_back(Endpoint{std::move(address), "", 1});
    } else {
      ++endpoints[it->second].weight;
    }
  }
  return endpoints;
}

// Each service is reached through a route on its domain. Missing fields (already reported)
// translate to empty values.
void translateService(const ParalarvaService& source, Config& out) {
  Service service;
  service.name = source.name.value_or("");
  service.lb = "round_robin";
  if (source.hosts) service.endpoints = endpointsOf(*source.hosts);
  Route route;
  route.id = service.name;
  route.match.host = source.domain.value_or("");
  route.split.push_back(SplitTarget{service.name, "", 1, {}});
  out.services.push_back(std::move(service));
  out.routes.push_back(std::move(route));
}

Config translate(const ParalarvaProxy& proxy) {
  Config out;
  if (proxy.listen) out.listeners.push_back(Listener{"paralarva", hostPort(*proxy.listen), "http"});
  if (proxy.services) {
    for (const ParalarvaService& service : *proxy.services) translateService(service, out);
  }
  return out;
}

// The shorthand must not take over an object the document names itself.
void checkFallback(const std::string& fallback, const Config& config, std::vector<Error>& errors) {
  sockaddr_storage addr;
  socklen_t len;
  std::string why;
  if (fallback.empty()) {
    add(errors, kFallbackName, "must not be empty");
  } else if (!parseIpPort(fallback, addr, len, &why)) {
    add(errors, kFallbackName, why);
  }
  for (const Service& service : config.services) {
    if (service.name == kFallbackName) {
      return add(errors, kFallbackName, "a service named 'fallback' already exists");
    }
  }
  for (const Route& route : config.routes) {
    if (route.id == kFallbackName) {
      return add(errors, kFallbackName, "a route with id 'fallback' already exists");
    }
  }
}

// The lowest priority there is and no match: every request no other route takes.
void addFallback(const std::string& address, Config& config) {
  Service service;
  service.name = kFallbackName;
  service.endpoints.push_back(Endpoint{address, "", 1});
  Route route;
  route.id = kFallbackName;
  route.priority = INT32_MIN;
  route.split.push_back(SplitTarget{kFallbackName, "", 1, {}});
  config.services.push_back(std::move(service));
  config.routes.push_back(std::move(route));
}

}  // namespace

std::vector<Error> finishDocument(Document&& document, Config& out) {
  std::vector<Error> errors;
  if (document.paralarva) {
    errors = checkParalarva(document.proxy);
    out = translate(document.proxy);
  } else {
    out = std::move(document.native);
  }
  // A valid paralarva file always translates to a valid model; validating it anyway keeps an
  // invalid model from ever leaving here, and its errors would only repeat paralarva's.
  if (!document.paralarva || errors.empty()) {
    for (Error& error : validate(out)) errors.push_back(std::move(error));
  }
  if (document.fallback) checkFallback(*document.fallback, out, errors);
  if (errors.empty() && document.fallback) addFallback(*document.fallback, out);
  return errors;
}

}  // namespace turnout::config
