// Bulk configuration loads as the admin API sees them (DESIGN §1: PUT /v1/config with 10,000
// routes within 200 ms): parse + validate of a 10k-route, 10k-service document in JSON and, for
// comparison, in YAML (the `turnout run --config` path), and encoding it back for GET.
#include <benchmark/benchmark.h>

#include <string>

#include "config/load.h"

namespace turnout::config {
namespace {

constexpr int kCount = 10000;

// Each service has two versioned endpoints; each route matches a host, a prefix and a header
// (one RE2 compile per route, as real admin loads have) and splits 90/10 between them.
Config makeConfig() {
  Config config;
  config.listeners.push_back({"public", "127.0.0.1:8080", "http"});
  for (int i = 0; i < kCount; ++i) {
    std::string n = std::to_string(i);
    std::string ip = "10." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250) + ".";
    config.services.push_back(
        Service{"svc-" + n, "round_robin", {{ip + "1:8080", "v1", 1}, {ip + "2:8080", "v2", 1}}});
    Route route;
    route.id = "route-" + n;
    route.priority = i % 7;
    route.match.host = "host-" + n + ".example.com";
    route.match.path_prefix = "/api/" + n + "/";
    route.match.headers["X-User"] = "^qa-";
    route.split = {{"svc-" + n, "v1", 90}, {"svc-" + n, "v2", 10}};
    config.routes.push_back(route);
  }
  return config;
}

// The same document in block YAML, as a hand-written file would be.
std::string toYaml(const Config& config) {
  std::string out = "listeners:\n  - {name: public, address: \"127.0.0.1:8080\"}\nservices:\n";
  for (const Service& s : config.services) {
    out += "  - name: " + s.name + "\n    endpoints:\n";
    for (const Endpoint& e : s.endpoints) {
      out += "      - {address: \"" + e.address + "\", version: " + e.version + "}\n";
    }
  }
  out += "routes:\n";
  for (const Route& r : config.routes) {
    out += "  - id: " + r.id + "\n    priority: " + std::to_string(r.priority) +
           "\n    match: {host: " + r.match.host + ", path_prefix: " + r.match.path_prefix +
           ", headers: {X-User: \"^qa-\"}}\n    split:\n";
    for (const SplitTarget& t : r.split) {
      out += "      - {service: " + t.service + ", version: " + t.version +
             ", weight: " + std::to_string(t.weight) + "}\n";
    }
  }
  return out;
}

void parseLoop(benchmark::State& state, const std::string& text, Format format) {
  for (auto _ : state) {
    Config config;
    auto errors = parseDocument(text, format, config);
    if (!errors.empty()) state.SkipWithError(errors.front().message.c_str());
    benchmark::DoNotOptimize(config);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_ConfigParseJson10k(benchmark::State& state) {
  parseLoop(state, toJson(makeConfig()), Format::kJson);
}
BENCHMARK(BM_ConfigParseJson10k)->Unit(benchmark::kMillisecond);

void BM_ConfigParseYaml10k(benchmark::State& state) {
  parseLoop(state, toYaml(makeConfig()), Format::kYaml);
}
BENCHMARK(BM_ConfigParseYaml10k)->Unit(benchmark::kMillisecond)->Iterations(3);

// validate() alone, to split the JSON figure into decoding and semantic checks.
void BM_ConfigValidate10k(benchmark::State& state) {
  Config config = makeConfig();
  for (auto _ : state) benchmark::DoNotOptimize(validate(config));
}
BENCHMARK(BM_ConfigValidate10k)->Unit(benchmark::kMillisecond);

void BM_ConfigToJson10k(benchmark::State& state) {
  Config config = makeConfig();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = toJson(config);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ConfigToJson10k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace turnout::config
