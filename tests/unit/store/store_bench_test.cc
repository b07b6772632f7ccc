// Store timing, printed and never asserted (DESIGN §4: budgets are measured, not timed tests).
// Disabled by default; run with
//   unit_tests --gtest_also_run_disabled_tests --gtest_filter='*StoreBench*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "store/store.h"
#include "store_test_util.h"

namespace turnout::store {
namespace {

using Clock = std::chrono::steady_clock;
using testing_util::makeRoute;
using testing_util::makeService;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// This thread's CPU time: on a loaded machine, wall time measures the neighbours too.
double cpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double percentile(std::vector<double> values, int p) {
  std::sort(values.begin(), values.end());
  return values[values.size() * p / 100];
}

TEST(DISABLED_StoreBench, CommitAndLoadWithTenThousandRoutes) {
  constexpr int kObjects = 10000;
  constexpr int kUpserts = 1000;
  testing_util::TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string error;
  auto store = openSqliteStore(dir.file("bench.db"), error);
  ASSERT_NE(store, nullptr) << error;

  route::Change bulk;
  bulk.kind = route::Change::Kind::kReplaceAll;
  for (int i = 0; i < kObjects; ++i) {
    bulk.all.services.push_back(makeService(i));
    bulk.all.routes.push_back(makeRoute(i));
  }
  auto start = Clock::now();
  double cpu = cpuMs();
  ASSERT_TRUE(store->commit(bulk, 1, "bench", "", error)) << error;
  std::printf("replace_all 10k routes + 10k services: %.1f ms wall, %.1f ms cpu\n", msSince(start),
              cpuMs() - cpu);

  std::vector<double> latencies, cpu_times;
  for (int i = 0; i < kUpserts; ++i) {
    route::Change change;
    change.kind = route::Change::Kind::kUpsertRoute;
    change.route = makeRoute(i % 2 == 0 ? i * 7 % kObjects : kObjects + i);  // replace or add
    change.route.priority = i;
    auto one = Clock::now();
    double one_cpu = cpuMs();
    ASSERT_TRUE(store->commit(change, store->revision() + 1, "bench", "", error)) << error;
    cpu_times.push_back(cpuMs() - one_cpu);
    latencies.push_back(msSince(one));
  }
  std::printf(
      "single-route upsert commit (%d, 10k stored): wall p50 %.3f ms p99 %.3f ms; "
      "cpu p50 %.3f ms p99 %.3f ms\n",
      kUpserts, percentile(latencies, 50), percentile(latencies, 99), percentile(cpu_times, 50),
      percentile(cpu_times, 99));

  for (int round = 0; round < 3; ++round) {
    auto fresh = openSqliteStore(dir.file("bench.db"), error);
    ASSERT_NE(fresh, nullptr) << error;
    Snapshot snapshot;
    start = Clock::now();
    cpu = cpuMs();
    ASSERT_TRUE(fresh->load(snapshot, error)) << error;
    std::printf("load %zu routes + %zu services: %.1f ms wall, %.1f ms cpu\n",
                snapshot.config.routes.size(), snapshot.config.services.size(), msSince(start),
                cpuMs() - cpu);
  }
}

}  // namespace
}  // namespace turnout::store
