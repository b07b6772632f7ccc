// The probe against a real loopback backend: what counts as a passed HTTP and TCP check, and
// what fails one (a status outside the expected ones, a hang, a reset, a refused connect).
#include "health/probe.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/event_loop.h"
#include "route/snapshot.h"
#include "test_backend.h"

namespace turnout::health {
namespace {

using testing::TestBackend;

struct ProbeResult {
  bool done = false;
  bool success = false;
  std::string why;
  std::chrono::milliseconds took{0};
};

ProbeSpec specFor(const std::string& address, bool http, uint32_t timeout_ms) {
  ProbeSpec spec;
  EXPECT_TRUE(route::parseSocketAddress(address, spec.address, spec.address_len));
  spec.http = http;
  if (http) spec.request = healthRequest("/healthz", "checks.example");
  spec.expected_statuses = {{200, 399}};
  spec.timeout_ms = timeout_ms;
  return spec;
}

// Runs one check on a loop of its own; gives up after 5 s.
ProbeResult runOnce(ProbeSpec spec) {
  core::EventLoop loop;
  ProbeResult result;
  const auto start = std::chrono::steady_clock::now();
  Probe probe(loop, std::move(spec), [&](bool success, const std::string& why) {
    result.done = true;
    result.success = success;
    result.why = why;
    result.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    loop.stop();
  });
  core::Timer guard([&] { loop.stop(); });
  guard.arm(loop.timers(), 5000);
  loop.post([&] { probe.run(); });
  loop.run();
  return result;
}

TEST(ProbeTest, HttpRequestNamesPathHostAndCloses) {
  EXPECT_EQ(healthRequest("/healthz", "10.0.0.1:80"),
            "GET /healthz HTTP/1.1\r\nHost: 10.0.0.1:80\r\nUser-Agent: turnout-health-check\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(healthRequest("", "h").substr(0, 15), "GET / HTTP/1.1\r");
}

TEST(ProbeTest, Http200Passes) {
  TestBackend backend;
  const ProbeResult result = runOnce(specFor(backend.address(), true, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_TRUE(result.success) << result.why;
  EXPECT_EQ(backend.requests(), 1);
  const std::string request = backend.lastRequest();
  EXPECT_EQ(request.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nHost: checks.example\r\n"), std::string::npos) << request;
}

TEST(ProbeTest, Http503Fails) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kUnavailable);
  const ProbeResult result = runOnce(specFor(backend.address(), true, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.why, "status 503");
}

TEST(ProbeTest, ExpectedStatusesDecide) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kUnavailable);
  ProbeSpec spec = specFor(backend.address(), true, 1000);
  spec.expected_statuses = {{200, 200}, {503, 503}};
  EXPECT_TRUE(runOnce(spec).success);
  backend.setMode(TestBackend::Mode::kOk);
  spec.expected_statuses = {{204, 204}};
  EXPECT_FALSE(runOnce(spec).success);
}

TEST(ProbeTest, HangFailsAtTheTimeout) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kHang);
  const ProbeResult result = runOnce(specFor(backend.address(), true, 150));
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.why, "timed out after 150 ms");
  EXPECT_GE(result.took.count(), 140);  // the wheel's 4 ms ticks, the coarse clock
  EXPECT_LT(result.took.count(), 1500);
}

TEST(ProbeTest, ResetFails) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kReset);
  const ProbeResult result = runOnce(specFor(backend.address(), true, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.why.find("reset"), std::string::npos) << result.why;
}

TEST(ProbeTest, RefusedFails) {
  const ProbeResult result = runOnce(specFor(testing::closedAddress(), true, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.why.find("refused"), std::string::npos) << result.why;
}

TEST(ProbeTest, TcpConnectPassesAndSendsNothing) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kUnavailable);  // what it would answer does not matter
  const ProbeResult result = runOnce(specFor(backend.address(), false, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_TRUE(result.success) << result.why;
}

TEST(ProbeTest, TcpRefusedFails) {
  TestBackend backend;
  backend.refuse();
  const ProbeResult result = runOnce(specFor(backend.address(), false, 1000));
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.why.find("refused"), std::string::npos) << result.why;
}

TEST(ProbeTest, RunsAgainOnTheSameProbe) {
  TestBackend backend;
  core::EventLoop loop;
  std::vector<bool> results;
  Probe* self = nullptr;
  Probe probe(loop, specFor(backend.address(), true, 1000), [&](bool success, const std::string&) {
    results.push_back(success);
    if (results.size() == 3) return loop.stop();
    backend.setMode(results.size() == 1 ? TestBackend::Mode::kUnavailable : TestBackend::Mode::kOk);
    loop.post([&] { self->run(); });
  });
  self = &probe;
  core::Timer guard([&] { loop.stop(); });
  guard.arm(loop.timers(), 5000);
  loop.post([&] { probe.run(); });
  loop.run();
  EXPECT_EQ(results, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(backend.requests(), 3);
}

}  // namespace
}  // namespace turnout::health
