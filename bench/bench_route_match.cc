// Route lookup and apply(change) at DESIGN §4's scale: 10,000 routes and 10,000 services.
#include <benchmark/benchmark.h>

#include <functional>

#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

constexpr int kCount = 10000;

// One service per route, as a fleet of small services would have.
config::Config makeConfig(int count, const std::function<void(int, config::Route&)>& shape) {
  config::Config config;
  config.services.reserve(count);
  config.routes.reserve(count);
  for (int i = 0; i < count; ++i) {
    config::Service service;
    service.name = "svc-" + std::to_string(i);
    service.endpoints.push_back(
        {"10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:8080", "v1", 1});
    config.services.push_back(std::move(service));
    config::Route route;
    route.id = "route-" + std::to_string(i);
    route.split.push_back({"svc-" + std::to_string(i), "v1", 1});
    shape(i, route);
    config.routes.push_back(std::move(route));
  }
  return config;
}

void exactHost(int i, config::Route& r) { r.match.host = "h" + std::to_string(i) + ".example.com"; }
void pathPrefix(int i, config::Route& r) {
  r.match.host = "api.example.com";
  r.match.path_prefix = "/p" + std::to_string(i) + "/";
}
void wildcard(int i, config::Route& r) {
  r.match.host = "*.d" + std::to_string(i) + ".example.com";
}

std::shared_ptr<const Snapshot> compile(const config::Config& config) {
  Change change;
  change.all = config;
  std::vector<config::Error> errors;
  auto snapshot = Compiler(4).apply(nullptr, change, errors);
  if (snapshot == nullptr) std::abort();
  return snapshot;
}

// Matches a rotating set of requests, checking each finds a route.
void runMatches(benchmark::State& state, const Snapshot& snapshot,
                const std::vector<std::pair<std::string, std::string>>& requests) {
  std::vector<http::HeaderField> headers = {{"user-agent", "bench"}, {"accept", "*/*"}};
  size_t i = 0;
  for (auto _ : state) {
    const auto& [host, path] = requests[i++ % requests.size()];
    const CompiledRoute* route = snapshot.match(MatchInput{host, path, &headers});
    if (route == nullptr) state.SkipWithError("no match");
    benchmark::DoNotOptimize(route);
  }
}

void BM_MatchExactHost(benchmark::State& state) {
  auto snapshot = compile(makeConfig(kCount, exactHost));
  std::vector<std::pair<std::string, std::string>> requests;
  for (int i = 0; i < 1024; ++i) {
    requests.emplace_back("H" + std::to_string(i * 9 % kCount) + ".Example.com:8080", "/index");
  }
  runMatches(state, *snapshot, requests);
}
BENCHMARK(BM_MatchExactHost);

// Once the worst case of a linear scan: one host, 10,000 prefixes, where "/p0/" ranked near the
// end (shorter prefixes rank later). The path tree visits only the prefixes of the request.
void BM_MatchPathPrefixWorst(benchmark::State& state) {
  auto snapshot = compile(makeConfig(kCount, pathPrefix));
  runMatches(state, *snapshot, {{"api.example.com", "/p0/users"}});
}
BENCHMARK(BM_MatchPathPrefixWorst);

void BM_MatchPathPrefixSpread(benchmark::State& state) {
  auto snapshot = compile(makeConfig(kCount, pathPrefix));
  std::vector<std::pair<std::string, std::string>> requests;
  for (int i = 0; i < 1024; ++i) {
    requests.emplace_back("api.example.com", "/p" + std::to_string(i * 9 % kCount) + "/x");
  }
  runMatches(state, *snapshot, requests);
}
BENCHMARK(BM_MatchPathPrefixSpread);

void BM_MatchWildcard(benchmark::State& state) {
  auto snapshot = compile(makeConfig(kCount, wildcard));
  std::vector<std::pair<std::string, std::string>> requests;
  for (int i = 0; i < 1024; ++i) {
    requests.emplace_back("a.b.d" + std::to_string(i * 9 % kCount) + ".example.com", "/");
  }
  runMatches(state, *snapshot, requests);
}
BENCHMARK(BM_MatchWildcard);

// One route change with everything loaded: what DESIGN §4 budgets at 1 ms.
void BM_ApplyUpsertRoute(benchmark::State& state) {
  auto base = compile(makeConfig(kCount, exactHost));
  Compiler compiler(4);
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route.split.push_back({"svc-7", "v1", 1});
  change.route.id = state.range(0) ? "route-5000" : "brand-new";
  change.route.match.host = "new.example.com";
  std::vector<config::Error> errors;
  for (auto _ : state) {
    auto next = compiler.apply(base.get(), change, errors);
    if (next == nullptr) state.SkipWithError("apply failed");
    state.PauseTiming();  // releasing the snapshot is the workers' business, not apply's
    next.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ApplyUpsertRoute)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"replace"})
    ->Unit(benchmark::kMicrosecond);

// The same with 10,000 prefixes on one host: the change lands in one big bucket, whose path
// tree copies only the changed branch.
void BM_ApplyUpsertRouteSameHost(benchmark::State& state) {
  auto base = compile(makeConfig(kCount, pathPrefix));
  Compiler compiler(4);
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route.split.push_back({"svc-7", "v1", 1});
  change.route.id = state.range(0) ? "route-5000" : "brand-new";
  change.route.match.host = "api.example.com";
  change.route.match.path_prefix = "/p5000/new/";
  std::vector<config::Error> errors;
  for (auto _ : state) {
    auto next = compiler.apply(base.get(), change, errors);
    if (next == nullptr) state.SkipWithError("apply failed");
    state.PauseTiming();
    next.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ApplyUpsertRouteSameHost)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"replace"})
    ->Unit(benchmark::kMicrosecond);

void BM_ApplyRemoveRoute(benchmark::State& state) {
  auto base = compile(makeConfig(kCount, exactHost));
  Compiler compiler(4);
  Change change;
  change.kind = Change::Kind::kRemoveRoute;
  change.name = "route-5000";
  std::vector<config::Error> errors;
  for (auto _ : state) {
    auto next = compiler.apply(base.get(), change, errors);
    if (next == nullptr) state.SkipWithError("apply failed");
    state.PauseTiming();
    next.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ApplyRemoveRoute)->Unit(benchmark::kMicrosecond);

void BM_ApplyUpsertService(benchmark::State& state) {
  auto base = compile(makeConfig(kCount, exactHost));
  Compiler compiler(4);
  Change change;
  change.kind = Change::Kind::kUpsertService;
  change.service.name = "svc-5000";
  change.service.endpoints.push_back({"10.200.0.1:8080", "v1", 1});
  change.service.endpoints.push_back({"10.200.0.2:8080", "v1", 1});
  std::vector<config::Error> errors;
  for (auto _ : state) {
    auto next = compiler.apply(base.get(), change, errors);
    if (next == nullptr) state.SkipWithError("apply failed");
    state.PauseTiming();
    next.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ApplyUpsertService)->Unit(benchmark::kMicrosecond);

// Bulk load: validate and compile 10,000 routes and services (budget 200 ms). The time includes
// releasing the previous iteration's snapshot, as it always has.
void BM_ApplyReplaceAll(benchmark::State& state) {
  Change change;
  change.all = makeConfig(kCount, state.range(0) ? pathPrefix : exactHost);
  Compiler compiler(4);
  std::vector<config::Error> errors;
  for (auto _ : state) {
    auto next = compiler.apply(nullptr, change, errors);
    if (next == nullptr) state.SkipWithError("apply failed");
    benchmark::DoNotOptimize(next);
  }
}
BENCHMARK(BM_ApplyReplaceAll)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"one_host"})
    ->Unit(benchmark::kMillisecond);

// The same load from YAML text, as `turnout run --config` does it.
void BM_ParseDocument(benchmark::State& state) {
  config::Config source = makeConfig(kCount, exactHost);
  std::string text = "services:\n";
  for (const auto& s : source.services) {
    text += "  - {name: " + s.name + ", endpoints: [{address: \"" + s.endpoints[0].address +
            "\", version: v1}]}\n";
  }
  text += "routes:\n";
  for (const auto& r : source.routes) {
    text += "  - {id: " + r.id + ", match: {host: " + r.match.host +
            "}, split: [{service: " + r.split[0].service + ", version: v1}]}\n";
  }
  for (auto _ : state) {
    config::Config config;
    auto errors = config::parseDocument(text, config);
    if (!errors.empty()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(config);
  }
}
BENCHMARK(BM_ParseDocument)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace turnout::route
