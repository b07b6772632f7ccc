// Request metrics (issue 7): what one request pays to count itself (Exchange::logExchange: a
// status slot, the request and upstream histograms, through a series pointer its worker
// cached), and what one scrape costs with many routes. The scrape runs on the admin thread and
// takes no lock any worker waits for; its cost is the admin thread's alone.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "observe/metrics.h"

namespace turnout::observe {
namespace {

void BM_CountOneRequest(benchmark::State& state) {
  WorkerMetrics worker;
  RouteSeries* series = worker.series("route", "service", "v1");
  uint64_t micros = 1;
  for (auto _ : state) {
    series->codes[codeSlot(200)].add();
    series->request.observe(micros);
    series->upstream.observe(micros / 2);
    worker.bytes_in.add(300);
    worker.bytes_out.add(900);
    micros = (micros * 7 + 13) % 2'000'000;  // spread over the buckets
    benchmark::DoNotOptimize(series);
  }
}
BENCHMARK(BM_CountOneRequest);

// One scrape's rendering: `routes` routes x 2 versions x 3 codes, over 2 workers.
void BM_RenderScrape(benchmark::State& state) {
  const int routes = static_cast<int>(state.range(0));
  WorkerMetrics a, b;
  for (WorkerMetrics* worker : {&a, &b}) {
    for (int r = 0; r < routes; ++r) {
      for (const char* version : {"v1", "v2"}) {
        RouteSeries* s = worker->series("route-" + std::to_string(r), "svc", version);
        for (int code : {200, 404, 503}) s->codes[codeSlot(code)].add(3);
        s->request.observe(1500);
        s->upstream.observe(1200);
      }
    }
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    renderRequestMetrics({&a, &b}, out);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderScrape)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace turnout::observe
