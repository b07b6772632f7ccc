// The pick path allocates nothing once a worker's scratch is warm: counted by replacing the
// global operator new for this test binary (a counter, otherwise plain malloc).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "balancer_test_support.h"
#include "health/endpoint_states.h"

#if !defined(__SANITIZE_ADDRESS__)
// These operators pair malloc with free by construction; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif

namespace turnout::route {
namespace {

using testing::makeEndpoints;
using testing::settingsFor;

TEST(BalancerAllocationTest, WarmPicksAllocateNothing) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer owns operator new";
#else
  health::EndpointStates states;
  std::mt19937_64 rng(1);
  PeakEwma latency;
  std::vector<uint32_t> active(4096, 0);
  for (LbPolicy lb : {LbPolicy::kRandom, LbPolicy::kRoundRobin, LbPolicy::kLeastRequest,
                      LbPolicy::kRingHash, LbPolicy::kMaglev, LbPolicy::kEwma}) {
    EndpointSet set(makeEndpoints({1, 2, 3, 4, 5, 6, 7, 8}, "10.7.0."),
                    settingsFor(lb, 50, /*slow_start_ms=*/10000), 1);
    for (const Endpoint& e : set.endpoints()) latency.observe(e.id, 1000, 1);
    states.ensure(set.endpoints()[7].id, 1000);  // ramping: the view refreshes as time goes on
    const uint32_t tried[] = {set.endpoints()[0].id};
    PickContext ctx{.active_by_endpoint = &active,
                    .rng = &rng,
                    .now_ms = 1000,
                    .latency = &latency,
                    .states = &states};
    health::EndpointState& fourth = states.ensure(set.endpoints()[3].id, 1);
    pickEndpoint(set, ctx);  // warms the scratch
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 1000; ++i) {
      ctx.hash = testing::keyHash(i);
      ctx.now_ms += 7;  // refresh of the slow start view every ~100 ms
      ctx.avoid = i % 10 == 0 ? std::span<const uint32_t>(tried) : std::span<const uint32_t>();
      if (i == 500) {
        fourth.check_failed = true;  // a rebuild on the next generation
        states.bumpGeneration();
      }
      pickEndpoint(set, ctx);
    }
    g_counting = false;
    EXPECT_EQ(g_allocations, 0u) << "policy " << static_cast<int>(lb);
    fourth.check_failed = false;
    states.bumpGeneration();
  }
#endif
}

}  // namespace
}  // namespace turnout::route
