// Route lookup on the request path: no lock, no allocation once the thread's buffers are warm.
#include "route/snapshot.h"
#include "route/compile.h"

namespace turnout::route {
namespace {

const std::vector<http::HeaderField> kNoHeaders;

// Keeps `best` as the lowest-rank route matching the request. A bucket is in rank order, so
// its first match is its best, and a route ranked after `best` cannot win.
void considerBucket(const std::vector<const CompiledRoute*>& bucket, std::string_view path,
                    const std::vector<http::HeaderField>& headers, const CompiledRoute*& best) {
  for (const CompiledRoute* route : bucket) {
    if (best != nullptr && route->rank >= best->rank) return;
    if (route->matchesRequest(path, headers)) {
      best = route;
      return;
    }
  }
}

}  // namespace

const CompiledRoute* Snapshot::match(const MatchInput& input) const {
  // The indexes have std::string keys: lookups go through per-thread buffers, which keep their
  // capacity, instead of building a string per lookup.
  thread_local std::string host_buffer;
  thread_local std::string key_buffer;
  const auto& headers = input.headers != nullptr ? *input.headers : kNoHeaders;
  std::string_view host = normalizeRequestHost(input.host, host_buffer);
  const CompiledRoute* best = nullptr;

  if (!host.empty()) {
    if (auto it = exact_hosts_.find(host_buffer); it != exact_hosts_.end()) {
      considerBucket(it->second, input.path, headers, best);
    }
    // "*.example.com" is stored as ".example.com": try every suffix that starts at a dot and
    // leaves a non-empty label in front ("a.b.example.com" -> ".b.example.com", ".example.com",
    // ".com"; "example.com" itself never matches it).
    if (!wildcard_suffixes_.empty()) {
      for (size_t dot = host.find('.', 1); dot != std::string_view::npos;
           dot = host.find('.', dot + 1)) {
        key_buffer.assign(host.substr(dot));
        if (auto it = wildcard_suffixes_.find(key_buffer); it != wildcard_suffixes_.end()) {
          considerBucket(it->second, input.path, headers, best);
        }
      }
    }
  }
  considerBucket(any_host_, input.path, headers, best);
  return best;
}

const CompiledService* Snapshot::service(std::string_view name) const {
  thread_local std::string key_buffer;
  key_buffer.assign(name);
  auto it = service_by_name_.find(key_buffer);
  return it != service_by_name_.end() ? it->second.get() : nullptr;
}

config::Config Snapshot::toConfig() const {
  config::Config out;
  out.listeners = listeners_;
  out.services.reserve(services_.size());
  for (const auto& service : services_) out.services.push_back(service->source);
  out.routes.reserve(source_order_.size());
  for (const CompiledRoute* route : source_order_) out.routes.push_back(route->source);
  return out;
}

}  // namespace turnout::route
