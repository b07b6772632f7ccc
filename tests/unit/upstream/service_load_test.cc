// Circuit-breaker counts: per-worker slots summed at each check, one object per service name.
#include "upstream/service_load.h"

#include <gtest/gtest.h>

#include <thread>

namespace turnout::upstream {
namespace {

TEST(ServiceLoadTest, SumsEveryWorkersSlot) {
  ServiceLoad load(3);
  observe::gaugeAdd(load.worker(0).requests, 2);
  observe::gaugeAdd(load.worker(2).requests, 1);
  observe::gaugeAdd(load.worker(1).connections, 4);
  EXPECT_EQ(load.current(Limit::kRequests), 3u);
  EXPECT_EQ(load.current(Limit::kConnections), 4u);
  EXPECT_EQ(load.current(Limit::kPending), 0u);
}

TEST(ServiceLoadTest, AGaugeGoesDownOnAnotherWorkerThanItWentUp) {
  // A request counted on worker 0 and a decrement seen first from worker 1 (never happens for
  // one request, but sums over slots must not care which slot moved).
  ServiceLoad load(2);
  observe::gaugeAdd(load.worker(0).requests, 1);
  observe::gaugeAdd(load.worker(1).requests, 1);
  observe::gaugeAdd(load.worker(0).requests, -1);
  EXPECT_EQ(load.current(Limit::kRequests), 1u);
  observe::gaugeAdd(load.worker(0).requests, -1);  // worker 0 alone is now "-1"
  EXPECT_EQ(load.current(Limit::kRequests), 0u);
}

TEST(ServiceLoadTest, AnUnbalancedSumReadsAsZeroNotHuge) {
  ServiceLoad load(1);
  observe::gaugeAdd(load.worker(0).pending, -1);
  EXPECT_EQ(load.current(Limit::kPending), 0u);
}

TEST(ServiceLoadTest, OverflowsAreCountedByLimit) {
  ServiceLoad load(2);
  load.worker(0).overflows[static_cast<size_t>(Limit::kPending)].add();
  load.worker(1).overflows[static_cast<size_t>(Limit::kPending)].add(2);
  EXPECT_EQ(load.overflows(Limit::kPending), 3u);
  EXPECT_EQ(load.overflows(Limit::kRequests), 0u);
  EXPECT_EQ(limitName(Limit::kConnections), "max_connections");
}

TEST(ServiceLoadTest, OneObjectPerServiceNameSoCountsSurviveRecompiles) {
  auto a = serviceLoad("service-load-test-a", 2);
  auto again = serviceLoad("service-load-test-a", 2);
  auto b = serviceLoad("service-load-test-b", 2);
  EXPECT_EQ(a.get(), again.get());
  EXPECT_NE(a.get(), b.get());
  bool seen = false;
  forEachServiceLoad([&](const std::string& name, const ServiceLoad& load) {
    if (name == "service-load-test-a") seen = seen || &load == a.get();
  });
  EXPECT_TRUE(seen);
}

TEST(ServiceLoadTest, ReadersSeeAWritersCountsWhileItWrites) {
  ServiceLoad load(2);
  std::thread writer([&] {
    for (int i = 0; i < 100000; ++i) {
      observe::gaugeAdd(load.worker(1).requests, 1);
      observe::gaugeAdd(load.worker(1).requests, -1);
    }
    observe::gaugeAdd(load.worker(1).requests, 1);
  });
  for (int i = 0; i < 1000; ++i) EXPECT_LE(load.current(Limit::kRequests), 1u);
  writer.join();
  EXPECT_EQ(load.current(Limit::kRequests), 1u);
}

}  // namespace
}  // namespace turnout::upstream
