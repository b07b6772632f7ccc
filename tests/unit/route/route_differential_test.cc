// The indexed match() against a naive reference: every route in the documented order (priority
// desc; host exact, wildcard by longer suffix, any; path exact, longer prefix, none; more header
// matchers; document order), the first whose host, path and headers match wins. Seeded and
// bounded, over full loads and over long runs of single changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "route/snapshot.h"

namespace turnout::route {
namespace {

const std::vector<std::string> kHosts = {"",          "a.com", "b.a.com", "x.b.a.com", "*.a.com",
                                         "*.b.a.com", "*.com", "c.org",   "*.org",     "A.Com"};
const std::vector<std::string> kRequestHosts = {"a.com",    "b.a.com",  "x.b.a.com", "y.x.b.a.com",
                                                "c.org",    "d.c.org",  "zz.com",    "",
                                                "A.COM:80", "other.net"};
const std::vector<std::string> kPaths = {"/", "/a", "/ab", "/a/b", "/a/", "/b", "/abc", "/a/bc"};

std::string randomPath(std::mt19937_64& rng) {
  static const char kAlphabet[] = {'/', 'a', 'b', 'c'};
  std::string path = "/";
  size_t length = rng() % 5;
  for (size_t i = 0; i < length; ++i) path += kAlphabet[rng() % 4];
  return path;
}

config::Route randomRoute(std::mt19937_64& rng, const std::string& id) {
  config::Route route;
  route.id = id;
  route.priority = static_cast<int>(rng() % 3) - 1;
  route.match.host = kHosts[rng() % kHosts.size()];
  switch (rng() % 3) {
    case 0:
      route.match.path = randomPath(rng);
      break;
    case 1:
      route.match.path_prefix = randomPath(rng);
      break;
    default:
      break;
  }
  if (rng() % 3 == 0) route.match.headers.emplace("x-a", "^1");
  if (rng() % 4 == 0) route.match.headers.emplace("x-b", "2");
  route.split.push_back({"svc", "", 1});
  return route;
}

// The reference, written apart from the compiler: the documented order as a plain sort key.
struct Reference {
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static std::string requestHost(std::string_view host) {
    if (size_t colon = host.find(':'); colon != std::string_view::npos)
      host = host.substr(0, colon);
    return lower(std::string(host));
  }
  static bool hostMatches(const config::Route& r, const std::string& host) {
    const std::string& pattern = r.match.host;
    if (pattern.empty()) return true;
    if (pattern.starts_with("*.")) {
      std::string suffix = lower(pattern.substr(1));
      return host.size() > suffix.size() && host.ends_with(suffix);
    }
    return !host.empty() && lower(pattern) == host;
  }
  static auto key(const config::Route& r, size_t doc) {
    int host_class = r.match.host.empty() ? 2 : r.match.host.starts_with("*.") ? 1 : 0;
    size_t suffix = host_class == 1 ? r.match.host.size() - 1 : 0;
    int path_class = !r.match.path.empty() ? 0 : !r.match.path_prefix.empty() ? 1 : 2;
    return std::make_tuple(-r.priority, host_class, -static_cast<int64_t>(suffix), path_class,
                           -static_cast<int64_t>(r.match.path_prefix.size()),
                           -static_cast<int64_t>(r.match.headers.size()), doc);
  }

  // Route ids sorted by the documented order.
  static std::vector<size_t> order(const std::vector<config::Route>& routes) {
    std::vector<size_t> indexes(routes.size());
    for (size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
    std::sort(indexes.begin(), indexes.end(),
              [&](size_t a, size_t b) { return key(routes[a], a) < key(routes[b], b); });
    return indexes;
  }

  static std::string match(const std::vector<config::Route>& routes,
                           const std::vector<size_t>& order, const Snapshot& snapshot,
                           std::string_view host, std::string_view path,
                           const std::vector<http::HeaderField>& headers) {
    std::string normalized = requestHost(host);
    for (size_t i : order) {
      const config::Route& r = routes[i];
      if (!hostMatches(r, normalized)) continue;
      if (!r.match.path.empty() && r.match.path != path) continue;
      if (!r.match.path_prefix.empty() && !path.starts_with(r.match.path_prefix)) continue;
      // Headers: the compiled route's own check, which the index does not change.
      const CompiledRoute* compiled = nullptr;
      for (const auto& c : snapshot.routes()) {
        if (c->source.id == r.id) compiled = c.get();
      }
      if (compiled == nullptr || !compiled->matchesRequest(path, headers)) continue;
      return r.id;
    }
    return "-";
  }
};

std::vector<http::HeaderField> randomHeaders(std::mt19937_64& rng) {
  std::vector<http::HeaderField> headers;
  if (rng() % 2) headers.push_back({"X-A", rng() % 2 ? "1x" : "x1"});
  if (rng() % 2) headers.push_back({"x-b", rng() % 2 ? "a2" : "b"});
  return headers;
}

void expectSameMatches(const std::vector<config::Route>& routes, const Snapshot& snapshot,
                       std::mt19937_64& rng, int requests) {
  std::vector<size_t> order = Reference::order(routes);
  int matched = 0;
  for (int i = 0; i < requests; ++i) {
    const std::string& host = kRequestHosts[rng() % kRequestHosts.size()];
    std::string path = rng() % 2 ? kPaths[rng() % kPaths.size()] : randomPath(rng);
    auto headers = randomHeaders(rng);
    const CompiledRoute* got = snapshot.match(MatchInput{host, path, &headers});
    std::string expected = Reference::match(routes, order, snapshot, host, path, headers);
    ASSERT_EQ(got != nullptr ? got->source.id : "-", expected)
        << "host " << host << " path " << path << " headers " << headers.size();
    matched += expected != "-" ? 1 : 0;
  }
  if (routes.size() > 100) EXPECT_GT(matched, requests / 4);  // the comparison has teeth
}

config::Config baseConfig() {
  config::Config config;
  config::Service service;
  service.name = "svc";
  service.endpoints.push_back({"10.0.0.1:80", "", 1});
  config.services.push_back(service);
  return config;
}

TEST(RouteDifferentialTest, FullLoadMatchesReference) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 4; ++round) {
    Change change;
    change.all = baseConfig();
    for (int i = 0; i < 800; ++i)
      change.all.routes.push_back(randomRoute(rng, "r" + std::to_string(i)));
    std::vector<config::Error> errors;
    auto snapshot = Compiler(1).apply(nullptr, change, errors);
    ASSERT_NE(snapshot, nullptr) << errors.at(0).message;
    expectSameMatches(change.all.routes, *snapshot, rng, 500);
  }
}

// Upserts (new ids and replacements, which may change a route's key) and removals, checked
// against a model of the document: replaced routes keep their place, new ones go last.
TEST(RouteDifferentialTest, SingleChangesMatchReference) {
  std::mt19937_64 rng(7);
  Compiler compiler(1);
  std::vector<config::Error> errors;
  Change load;
  load.all = baseConfig();
  auto snapshot = compiler.apply(nullptr, load, errors);
  ASSERT_NE(snapshot, nullptr);
  std::vector<config::Route> model;
  for (int step = 0; step < 3000; ++step) {
    Change change;
    uint64_t dice = rng() % 10;
    if (dice < 3 && !model.empty()) {
      size_t victim = rng() % model.size();
      change.kind = Change::Kind::kRemoveRoute;
      change.name = model[victim].id;
      model.erase(model.begin() + victim);
    } else {
      change.kind = Change::Kind::kUpsertRoute;
      std::string id = "r" + std::to_string(rng() % 400);  // often an existing id
      change.route = randomRoute(rng, id);
      auto it = std::find_if(model.begin(), model.end(), [&](auto& r) { return r.id == id; });
      if (it != model.end()) {
        *it = change.route;
      } else {
        model.push_back(change.route);
      }
    }
    snapshot = compiler.apply(snapshot.get(), change, errors);
    ASSERT_NE(snapshot, nullptr) << errors.at(0).message;
    if (step % 100 == 99) {
      expectSameMatches(model, *snapshot, rng, 200);
      auto config = snapshot->toConfig();
      ASSERT_EQ(config.routes.size(), model.size());
      for (size_t i = 0; i < model.size(); ++i) ASSERT_EQ(config.routes[i].id, model[i].id);
      const auto& routes = snapshot->routes();
      for (size_t i = 1; i < routes.size(); ++i) ASSERT_LT(routes[i - 1]->rank, routes[i]->rank);
    }
  }
}

}  // namespace
}  // namespace turnout::route
