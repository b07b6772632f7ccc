// The health service on its own thread against real loopback backends: checks follow the
// configuration (one per endpoint and settings), thresholds move check_failed and the
// generation, ejections respect max_ejection_percent and end on time or at a passing check.
// Waits are bounded; intervals are short (50 ms) so the suite stays fast.
#include "health/health_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "core/log.h"
#include "route/snapshot.h"
#include "test_backend.h"

namespace turnout::health {
namespace {

using testing::TestBackend;
using Clock = std::chrono::steady_clock;

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// The shortest interval the configuration allows (100 ms), so the tests run quickly.
config::HealthCheck httpCheck(uint32_t interval_ms = 100) {
  config::HealthCheck check;
  check.type = "http";
  check.path = "/healthz";
  check.interval_ms = interval_ms;
  check.timeout_ms = 80;
  check.healthy = 2;
  check.unhealthy = 3;
  return check;
}

config::Service serviceOf(const std::string& name, const std::vector<std::string>& addresses,
                          config::HealthCheck check = {}) {
  config::Service service;
  service.name = name;
  for (const auto& address : addresses) service.endpoints.push_back({address, "", 1});
  service.health_check = std::move(check);
  return service;
}

std::shared_ptr<const route::Snapshot> snapshotOf(std::vector<config::Service> services) {
  route::Change change;
  change.kind = route::Change::Kind::kReplaceAll;
  change.all.services = std::move(services);
  std::vector<config::Error> errors;
  route::Compiler compiler(1);
  auto snapshot = compiler.apply(nullptr, change, errors);
  EXPECT_TRUE(errors.empty()) << errors.front().field << ": " << errors.front().message;
  return snapshot;
}

bool checkFailed(const EndpointStates& states, const std::string& address) {
  const EndpointState* state = states.find(route::endpointId(address));
  return state != nullptr && state->check_failed.load();
}

bool ejected(const EndpointStates& states, const std::string& address) {
  const EndpointState* state = states.find(route::endpointId(address));
  return state != nullptr && state->ejected.load();
}

class HealthServiceTest : public ::testing::Test {
 protected:
  EndpointStates states;
  HealthService health{states};
  void SetUp() override {
    core::setLogLevel(core::LogLevel::kWarn);  // transitions are logged at info
    health.start();
  }
  void TearDown() override {
    health.stop();
    core::setLogLevel(core::LogLevel::kInfo);
  }
};

TEST_F(HealthServiceTest, ThresholdsMarkDownAndUpAndBumpTheGeneration) {
  TestBackend backend;
  health.update(snapshotOf({serviceOf("web", {backend.address()}, httpCheck())}));
  ASSERT_TRUE(eventually([&] { return backend.requests() >= 2; }));
  const uint32_t id = route::endpointId(backend.address());
  EXPECT_FALSE(checkFailed(states, backend.address()));
  EXPECT_EQ(health.endpointHealth(id).kind, EndpointHealth::Kind::kHealthy);
  EXPECT_NE(backend.lastRequest().find("Host: " + backend.address() + "\r\n"), std::string::npos);

  const uint64_t before_down = states.generation();
  const int requests_before = backend.requests();
  backend.setMode(TestBackend::Mode::kUnavailable);
  ASSERT_TRUE(eventually([&] { return checkFailed(states, backend.address()); }));
  // Three failures in a row, and not before (one more request may have been answered 200).
  EXPECT_GE(backend.requests() - requests_before, 3);
  EXPECT_GT(states.generation(), before_down);
  EXPECT_EQ(health.endpointHealth(id).kind, EndpointHealth::Kind::kFailed);

  const uint64_t before_up = states.generation();
  backend.setMode(TestBackend::Mode::kOk);
  ASSERT_TRUE(eventually([&] { return !checkFailed(states, backend.address()); }));
  EXPECT_GT(states.generation(), before_up);
  EXPECT_EQ(health.endpointHealth(id).kind, EndpointHealth::Kind::kHealthy);
}

TEST_F(HealthServiceTest, HangAndRefusalFailTheCheck) {
  TestBackend hanging;
  TestBackend refusing;
  hanging.setMode(TestBackend::Mode::kHang);
  refusing.refuse();
  health.update(
      snapshotOf({serviceOf("web", {hanging.address(), refusing.address()}, httpCheck())}));
  EXPECT_TRUE(eventually([&] { return checkFailed(states, hanging.address()); }));
  EXPECT_TRUE(eventually([&] { return checkFailed(states, refusing.address()); }));
}

TEST_F(HealthServiceTest, OneCheckPerEndpointAndSettings) {
  TestBackend backend;
  const std::string address = backend.address();
  health.update(snapshotOf({serviceOf("a", {address}, httpCheck()),
                            serviceOf("b", {address}, httpCheck()), serviceOf("c", {address})}));
  ASSERT_TRUE(eventually([&] { return health.checkCount() == 1; }));
  config::HealthCheck other_path = httpCheck();
  other_path.path = "/ready";
  health.update(
      snapshotOf({serviceOf("a", {address}, httpCheck()), serviceOf("b", {address}, other_path)}));
  EXPECT_TRUE(eventually([&] { return health.checkCount() == 2; }));
  health.update(snapshotOf({serviceOf("a", {address})}));
  EXPECT_TRUE(eventually([&] { return health.checkCount() == 0; }));
  EXPECT_EQ(health.endpointHealth(route::endpointId(address)).kind,
            EndpointHealth::Kind::kUnchecked);
}

TEST_F(HealthServiceTest, AnyFailingCheckFailsTheEndpoint) {
  TestBackend backend;
  config::HealthCheck tcp = httpCheck();
  tcp.type = "tcp";
  config::HealthCheck picky = httpCheck();
  picky.expected_statuses = {{204, 204}};  // the backend answers 200: always failing
  health.update(snapshotOf(
      {serviceOf("a", {backend.address()}, tcp), serviceOf("b", {backend.address()}, picky)}));
  EXPECT_TRUE(eventually([&] { return checkFailed(states, backend.address()); }));
  // Once the picky check is gone, the endpoint is healthy again at once.
  health.update(snapshotOf({serviceOf("a", {backend.address()}, tcp)}));
  EXPECT_TRUE(eventually([&] { return !checkFailed(states, backend.address()); }));
}

TEST_F(HealthServiceTest, ChecksFollowEndpointChangesAndStopForRemovedOnes) {
  TestBackend first;
  TestBackend second;
  health.update(snapshotOf({serviceOf("web", {first.address()}, httpCheck())}));
  ASSERT_TRUE(eventually([&] { return first.requests() >= 1; }));
  health.update(snapshotOf({serviceOf("web", {first.address(), second.address()}, httpCheck())}));
  ASSERT_TRUE(eventually([&] { return second.requests() >= 1; }));
  health.update(snapshotOf({serviceOf("web", {second.address()}, httpCheck())}));
  ASSERT_TRUE(eventually([&] { return health.checkCount() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a check in flight lands
  const int settled = first.requests();
  const int second_before = second.requests();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // six intervals
  EXPECT_EQ(first.requests(), settled);
  EXPECT_GT(second.requests(), second_before);
}

TEST_F(HealthServiceTest, ANewCheckOnAFailedEndpointStartsFailed) {
  TestBackend backend;
  backend.setMode(TestBackend::Mode::kUnavailable);
  health.update(snapshotOf({serviceOf("web", {backend.address()}, httpCheck())}));
  ASSERT_TRUE(eventually([&] { return checkFailed(states, backend.address()); }));
  config::HealthCheck slower = httpCheck(120);
  health.update(snapshotOf({serviceOf("web", {backend.address()}, slower)}));
  ASSERT_TRUE(eventually([&] { return health.checkCount() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(checkFailed(states, backend.address()));
}

config::Service ejectable(const std::string& name, const std::vector<std::string>& addresses,
                          uint32_t base_ms, uint32_t max_percent) {
  config::Service service = serviceOf(name, addresses);
  service.outlier.base_ejection_ms = base_ms;
  service.outlier.max_ejection_ms = 10 * base_ms;
  service.outlier.max_ejection_percent = max_percent;
  return service;
}

TEST_F(HealthServiceTest, EjectionRespectsMaxPercentAndEndsOnTime) {
  const std::vector<std::string> addresses = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  health.update(snapshotOf({ejectable("web", addresses, 400, 10)}));
  const uint32_t first = route::endpointId(addresses[0]);
  const uint32_t second = route::endpointId(addresses[1]);
  const uint64_t before = states.generation();
  const auto ejected_at = Clock::now();
  health.requestEjection("web", first, OutlierReason::kConsecutive5xx);
  ASSERT_TRUE(eventually([&] { return ejected(states, addresses[0]); }));
  EXPECT_GT(states.generation(), before);
  const EndpointHealth view = health.endpointHealth(first);
  EXPECT_EQ(view.kind, EndpointHealth::Kind::kEjected);
  EXPECT_EQ(view.times_ejected, 1u);
  EXPECT_GT(view.ejected_for_ms, 0u);
  EXPECT_LE(view.ejected_for_ms, 400u);

  // 10 % of 3: the first may always go, a second may not while the first is out.
  health.requestEjection("web", second, OutlierReason::kConsecutiveGatewayFailure);
  health.requestEjection("web", first, OutlierReason::kConsecutive5xx);  // out already: no-op
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ejected(states, addresses[1]));

  ASSERT_TRUE(eventually([&] { return !ejected(states, addresses[0]); }));
  const auto back_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ejected_at);
  EXPECT_GE(back_after.count(), 390);
  EXPECT_EQ(health.endpointHealth(first).kind, EndpointHealth::Kind::kHealthy);  // ejected once

  // With the first back, the second may go; a second ejection of the first lasts twice as long.
  health.requestEjection("web", second, OutlierReason::kConsecutiveGatewayFailure);
  ASSERT_TRUE(eventually([&] { return ejected(states, addresses[1]); }));
  std::string metrics;
  health.renderMetrics(*snapshotOf({ejectable("web", addresses, 400, 10)}), metrics);
  EXPECT_NE(metrics.find("turnout_outlier_ejections_total{service=\"web\",reason=\""
                         "consecutive_5xx\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("turnout_outlier_ejections_total{service=\"web\",reason=\""
                         "consecutive_gateway_failure\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("turnout_endpoints_ejected{service=\"web\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("turnout_endpoint_healthy{service=\"web\",address=\"127.0.0.1:2\"} 0\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("turnout_endpoint_healthy{service=\"web\",address=\"127.0.0.1:1\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(metrics.find("address=\"127.0.0.1:3\""), std::string::npos);  // never checked nor out
}

TEST_F(HealthServiceTest, RepeatedEjectionsLastLonger) {
  const std::vector<std::string> addresses = {"127.0.0.1:4"};
  health.update(snapshotOf({ejectable("api", addresses, 100, 100)}));
  const uint32_t id = route::endpointId(addresses[0]);
  health.requestEjection("api", id, OutlierReason::kConsecutiveConnectFailure);
  ASSERT_TRUE(eventually([&] { return ejected(states, addresses[0]); }));
  ASSERT_TRUE(eventually([&] { return !ejected(states, addresses[0]); }));
  health.requestEjection("api", id, OutlierReason::kConsecutiveConnectFailure);
  ASSERT_TRUE(eventually([&] { return ejected(states, addresses[0]); }));
  const EndpointHealth view = health.endpointHealth(id);
  EXPECT_EQ(view.times_ejected, 2u);
  EXPECT_GT(view.ejected_for_ms, 100u);
  EXPECT_LE(view.ejected_for_ms, 200u);
}

TEST_F(HealthServiceTest, UnknownServiceOrEndpointIsNotEjected) {
  const std::vector<std::string> addresses = {"127.0.0.1:5"};
  health.update(snapshotOf({ejectable("api", addresses, 100, 100)}));
  health.requestEjection("nope", route::endpointId(addresses[0]), OutlierReason::kConsecutive5xx);
  health.requestEjection("api", route::endpointId("127.0.0.1:6"), OutlierReason::kConsecutive5xx);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ejected(states, addresses[0]));
  EXPECT_FALSE(ejected(states, "127.0.0.1:6"));
}

TEST_F(HealthServiceTest, APassingActiveCheckEndsAnEjection) {
  TestBackend backend;
  config::Service service = ejectable("web", {backend.address()}, 60000, 100);
  service.health_check = httpCheck();
  health.update(snapshotOf({service}));
  ASSERT_TRUE(eventually([&] { return backend.requests() >= 1; }));
  health.requestEjection("web", route::endpointId(backend.address()),
                         OutlierReason::kConsecutive5xx);
  ASSERT_TRUE(eventually([&] { return ejected(states, backend.address()); }));
  const auto ejected_at = Clock::now();
  ASSERT_TRUE(eventually([&] { return !ejected(states, backend.address()); }));
  EXPECT_LT(Clock::now() - ejected_at, std::chrono::seconds(5));  // not the 60 s
}

TEST_F(HealthServiceTest, MetricsCountChecksByResult) {
  TestBackend backend;
  auto snapshot = snapshotOf({serviceOf("web", {backend.address()}, httpCheck())});
  health.update(snapshot);
  ASSERT_TRUE(eventually([&] { return backend.requests() >= 2; }));
  backend.setMode(TestBackend::Mode::kUnavailable);
  ASSERT_TRUE(eventually([&] { return checkFailed(states, backend.address()); }));
  std::string metrics;
  health.renderMetrics(*snapshot, metrics);
  EXPECT_NE(metrics.find("# TYPE turnout_health_checks_total counter"), std::string::npos);
  EXPECT_NE(metrics.find("turnout_health_checks_total{service=\"web\",result=\"success\"} "),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("turnout_health_checks_total{service=\"web\",result=\"failure\"} "),
            std::string::npos);
  EXPECT_NE(metrics.find("turnout_endpoint_healthy{service=\"web\",address=\"" + backend.address() +
                         "\"} 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace turnout::health
