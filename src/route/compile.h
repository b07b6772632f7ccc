// Compiling one validated model object, and the match order of routes. Private to route/.
#pragma once

#include <memory>

#include "route/snapshot.h"

namespace turnout::route {

// The object must have passed config's checks: compilation does not report errors.
std::unique_ptr<CompiledRoute> compileRoute(const config::Route& route,
                                            const config::Identity& identity,
                                            uint32_t worker_count);
// DNS-named endpoints expand into their addresses through `names` (unresolved without it).
std::shared_ptr<const CompiledService> compileService(const config::Service& service,
                                                      uint32_t worker_count,
                                                      const NameLookup& names = {});

// Match order without the document-order tie break: priority desc, then host (exact, wildcard
// with longer suffix first, any), then path (exact, longer prefix first, none), then more header
// matchers first. Routes equal under it are ordered by document order.
bool routeKeyLess(const CompiledRoute& a, const CompiledRoute& b);
inline bool sameRouteKey(const CompiledRoute& a, const CompiledRoute& b) {
  return !routeKeyLess(a, b) && !routeKeyLess(b, a);
}

// "API.Example.com:8080" -> "api.example.com", "[::1]:80" -> "[::1]", trailing dot dropped.
// Writes into `buffer` (reused across calls, so matching allocates nothing once warm).
std::string_view normalizeRequestHost(std::string_view host, std::string& buffer);

}  // namespace turnout::route
