// Traffic policy overhead (issue 5): the routing work of one request on a plain route against a
// route with three version selectors and two faults, none of which fires. Times what the data
// path does per request (proxy/exchange.cc Exchange::start): Snapshot::match, then
// CompiledRoute::pickVersion, then CompiledRoute::planFaults when the route has faults.
// bench/policy/policy_bench.sh measures the same routes end to end; bench/RESULTS.md has both.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

// The configuration of bench/policy/policy_bench.sh (ports aside). `policy` is the issue's route:
// three selectors (split targets with a match), a weighted target, a sticky cookie and two faults.
// `policy-nosticky` is the same without the sticky cookie, so that the selectors run on every
// request (a request carrying a valid sticky cookie skips them).
constexpr const char* kConfig = R"(
services:
  - name: hello
    endpoints: [{address: "127.0.0.1:18081", version: v1}, {address: "127.0.0.1:18082", version: v2}]
routes:
  - id: plain
    match: {path_prefix: /plain/}
    split: [{service: hello, version: v1}]
  - id: policy
    match: {path_prefix: /policy/}
    split:
      - {service: hello, version: v2, match: {headers: {X-Canary: "^yes$"}}}
      - {service: hello, version: v2, match: {cookies: {user: jason}}}
      - {service: hello, version: v2, match: {headers: {X-Beta: "1"}}}
      - {service: hello, version: v1, weight: 100}
    sticky: {cookie: version}
    faults:
      - {match: {headers: {X-Gremlin-Id: "test-"}}, version: v2, delay: {seconds: 3}}
      - {match: {headers: {X-Gremlin-Id: "abort-"}}, abort: {status: 503}}
  - id: policy-nosticky
    match: {path_prefix: /policy-nosticky/}
    split:
      - {service: hello, version: v2, match: {headers: {X-Canary: "^yes$"}}}
      - {service: hello, version: v2, match: {cookies: {user: jason}}}
      - {service: hello, version: v2, match: {headers: {X-Beta: "1"}}}
      - {service: hello, version: v1, weight: 100}
    faults:
      - {match: {headers: {X-Gremlin-Id: "test-"}}, version: v2, delay: {seconds: 3}}
      - {match: {headers: {X-Gremlin-Id: "abort-"}}, abort: {status: 503}}
)";

std::shared_ptr<const Snapshot> compilePolicyConfig() {
  config::Config config;
  if (!config::parseDocument(kConfig, config).empty()) std::abort();
  Change change;
  change.all = std::move(config);
  std::vector<config::Error> errors;
  auto snapshot = Compiler(1).apply(nullptr, change, errors);
  if (snapshot == nullptr) std::abort();
  return snapshot;
}

// A browser-like request: 8 headers, a Cookie header among them, none of the trigger headers.
std::vector<http::HeaderField> requestHeaders(std::string_view cookie) {
  return {{"Host", "bench.example.com"},
          {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"},
          {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
          {"Accept-Language", "en-US,en;q=0.5"},
          {"Accept-Encoding", "gzip, deflate, br"},
          {"X-Request-Id", "4f8a1c2e-9b3d-4e5f-8a7b-6c5d4e3f2a1b"},
          {"Cookie", cookie},
          {"Connection", "keep-alive"}};
}

constexpr std::string_view kStickyCookie = "session=0123456789abcdef; version=v1; theme=dark";
constexpr std::string_view kOtherCookie = "session=0123456789abcdef; theme=dark";

// One request's routing decisions, as Exchange::start makes them.
void runRequests(benchmark::State& state, std::string_view path_prefix, std::string_view cookie,
                 const char* expect_route) {
  auto snapshot = compilePolicyConfig();
  std::vector<http::HeaderField> headers = requestHeaders(cookie);
  std::vector<std::string> paths;
  for (int i = 0; i < 16; ++i) {
    paths.push_back(std::string(path_prefix) + "items/" + std::to_string(i * 37));
  }
  std::mt19937_64 rng(42);
  size_t i = 0;
  for (auto _ : state) {
    MatchInput input{"bench.example.com", paths[i++ % paths.size()], &headers};
    const CompiledRoute* route = snapshot->match(input);
    if (route == nullptr) {
      state.SkipWithError("no match");
      break;
    }
    VersionPick pick = route->pickVersion(headers, rng);
    if (pick.target == nullptr) {
      state.SkipWithError("no target");
      break;
    }
    if (!route->faults.empty()) {
      FaultPlan plan = route->planFaults(*pick.target, headers, rng);
      if (plan.any()) state.SkipWithError("a fault fired");
      benchmark::DoNotOptimize(plan);
    }
    benchmark::DoNotOptimize(pick);
  }
  // Check once, outside the timed loop, that the intended route and version were taken.
  MatchInput input{"bench.example.com", paths[0], &headers};
  const CompiledRoute* route = snapshot->match(input);
  if (route == nullptr || route->source.id != expect_route) {
    state.SkipWithError("wrong route");
  } else if (route->pickVersion(headers, rng).target->version != "v1") {
    state.SkipWithError("wrong version");
  }
}

// Baseline: one split target, no sticky cookie, no faults.
void BM_PolicyPlain(benchmark::State& state) {
  runRequests(state, "/plain/", kStickyCookie, "plain");
}
BENCHMARK(BM_PolicyPlain);

// The issue's route, request carrying its sticky cookie (version=v1): the cookie decides, the
// selectors are skipped; the two faults are checked (the delay is scoped to v2, so only the
// abort's trigger header is looked for).
void BM_PolicyStickyCookie(benchmark::State& state) {
  runRequests(state, "/policy/", kStickyCookie, "policy");
}
BENCHMARK(BM_PolicyStickyCookie);

// The issue's route, request without the sticky cookie: three selectors are evaluated and miss,
// the weighted draw picks v1, the answer would set the cookie (kSet), two faults checked.
void BM_PolicyNoCookie(benchmark::State& state) {
  runRequests(state, "/policy/", kOtherCookie, "policy");
}
BENCHMARK(BM_PolicyNoCookie);

// Same selectors and faults without sticky: selectors evaluated on every request, no cookie work.
void BM_PolicyNoSticky(benchmark::State& state) {
  runRequests(state, "/policy-nosticky/", kStickyCookie, "policy-nosticky");
}
BENCHMARK(BM_PolicyNoSticky);

}  // namespace
}  // namespace turnout::route
