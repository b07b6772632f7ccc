#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <thread>

#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

config::Service makeService(const std::string& name, std::vector<std::string> versions) {
  config::Service service;
  service.name = name;
  for (size_t i = 0; i < versions.size(); ++i) {
    service.endpoints.push_back({"10.1.0." + std::to_string(i + 1) + ":80", versions[i], 1});
  }
  return service;
}

config::Route makeRoute(const std::string& id, const std::string& service,
                        const std::string& version = "") {
  config::Route route;
  route.id = id;
  route.match.path_prefix = "/" + id + "/";
  route.split.push_back({service, version, 1});
  return route;
}

class CompilerTest : public ::testing::Test {
 protected:
  // Starts from: services a (v1, v2) and b; routes ra -> a v1, rb -> b.
  void SetUp() override {
    Change change;
    change.all.services = {makeService("a", {"v1", "v2"}), makeService("b", {""})};
    change.all.routes = {makeRoute("ra", "a", "v1"), makeRoute("rb", "b")};
    base_ = apply(nullptr, change);
    ASSERT_NE(base_, nullptr);
  }

  std::shared_ptr<const Snapshot> apply(const Snapshot* previous, const Change& change) {
    errors_.clear();
    return compiler_.apply(previous, change, errors_);
  }

  const CompiledRoute* route(const Snapshot& s, const std::string& id) {
    for (const auto& r : s.routes()) {
      if (r->source.id == id) return r.get();
    }
    return nullptr;
  }

  Compiler compiler_{2};
  std::shared_ptr<const Snapshot> base_;
  std::vector<config::Error> errors_;
};

TEST_F(CompilerTest, FirstSnapshotIsRevisionOne) {
  EXPECT_EQ(base_->revision(), 1u);
  EXPECT_EQ(base_->workerCount(), 2u);
  ASSERT_NE(base_->service("a"), nullptr);
  EXPECT_EQ(base_->service("a")->by_version.size(), 2u);
  EXPECT_EQ(base_->service("a")->forVersion("v2")->endpoints().size(), 1u);
  EXPECT_EQ(base_->service("a")->forVersion(""), base_->service("a")->all.get());
  EXPECT_EQ(base_->service("a")->forVersion("v3"), nullptr);
  EXPECT_EQ(base_->service("zz"), nullptr);
}

TEST_F(CompilerTest, ReplaceAllReportsValidationErrors) {
  Change change;
  change.all.routes = {makeRoute("r", "missing")};
  EXPECT_EQ(apply(base_.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].field, "routes[0].split[0].service");
}

TEST_F(CompilerTest, UpsertRouteSharesEverythingElse) {
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route = makeRoute("rc", "b");
  auto next = apply(base_.get(), change);
  ASSERT_NE(next, nullptr) << errors_.at(0).message;
  EXPECT_EQ(next->revision(), 2u);
  EXPECT_EQ(route(*next, "ra"), route(*base_, "ra"));  // the same compiled objects
  EXPECT_EQ(route(*next, "rb"), route(*base_, "rb"));
  EXPECT_NE(route(*next, "rc"), nullptr);
  EXPECT_EQ(next->service("a"), base_->service("a"));
  EXPECT_EQ(next->service("b"), base_->service("b"));
  EXPECT_EQ(next->match(MatchInput{"h", "/rc/x", nullptr})->source.id, "rc");
  EXPECT_EQ(base_->match(MatchInput{"h", "/rc/x", nullptr}), nullptr);  // unchanged
}

TEST_F(CompilerTest, ReplacingARouteKeepsItsDocumentPlace) {
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route = makeRoute("ra", "a", "v2");
  change.route.priority = 3;
  auto next = apply(base_.get(), change);
  ASSERT_NE(next, nullptr);
  EXPECT_NE(route(*next, "ra"), route(*base_, "ra"));
  EXPECT_EQ(route(*next, "rb"), route(*base_, "rb"));
  EXPECT_EQ(next->routes().front()->source.id, "ra");  // priority 3 ranks first now
  auto config = next->toConfig();
  ASSERT_EQ(config.routes.size(), 2u);
  EXPECT_EQ(config.routes[0].id, "ra");
  EXPECT_EQ(config.routes[0].split[0].version, "v2");
  EXPECT_EQ(config.routes[1].id, "rb");
}

TEST_F(CompilerTest, UpsertRouteToUnknownServiceOrVersionFails) {
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route = makeRoute("rc", "nope");
  EXPECT_EQ(apply(base_.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].field, "split[0].service");
  change.route = makeRoute("rc", "a", "v9");
  EXPECT_EQ(apply(base_.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].field, "split[0].version");
}

TEST_F(CompilerTest, RemoveRoute) {
  Change change;
  change.kind = Change::Kind::kRemoveRoute;
  change.name = "ra";
  auto next = apply(base_.get(), change);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->routes().size(), 1u);
  EXPECT_EQ(route(*next, "rb"), route(*base_, "rb"));
  EXPECT_EQ(next->match(MatchInput{"h", "/ra/", nullptr}), nullptr);
  change.name = "ra";
  EXPECT_EQ(apply(next.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].message.find("not found"), std::string::npos);
}

TEST_F(CompilerTest, RemoveUsedServiceNamesTheRoutes) {
  Change change;
  change.kind = Change::Kind::kRemoveService;
  change.name = "a";
  EXPECT_EQ(apply(base_.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].field, "name");
  EXPECT_EQ(errors_[0].message, "service 'a' is still used by routes: ra");

  change.name = "zz";
  EXPECT_EQ(apply(base_.get(), change), nullptr);
  EXPECT_NE(errors_.at(0).message.find("not found"), std::string::npos);
}

TEST_F(CompilerTest, RemoveUnusedService) {
  Change change;
  change.kind = Change::Kind::kRemoveRoute;
  change.name = "rb";
  auto without_route = apply(base_.get(), change);
  ASSERT_NE(without_route, nullptr);
  change.kind = Change::Kind::kRemoveService;
  change.name = "b";
  auto next = apply(without_route.get(), change);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->revision(), 3u);
  EXPECT_EQ(next->service("b"), nullptr);
  EXPECT_EQ(next->service("a"), base_->service("a"));
  EXPECT_EQ(next->toConfig().services.size(), 1u);
}

TEST_F(CompilerTest, UpsertServiceKeepsRoutesAndChecksVersionsInUse) {
  Change change;
  change.kind = Change::Kind::kUpsertService;
  change.service = makeService("a", {"v1", "v3"});  // v2 is unused: fine
  auto next = apply(base_.get(), change);
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next->service("a"), base_->service("a"));
  EXPECT_EQ(next->service("b"), base_->service("b"));
  EXPECT_EQ(route(*next, "ra"), route(*base_, "ra"));
  EXPECT_EQ(next->toConfig().services[0].name, "a");  // keeps its place

  change.service = makeService("a", {"v2"});  // ra splits to v1
  EXPECT_EQ(apply(next.get(), change), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].field, "endpoints");
  EXPECT_NE(errors_[0].message.find("ra (version 'v1')"), std::string::npos);

  change.service = makeService("bad name", {""});
  EXPECT_EQ(apply(next.get(), change), nullptr);
  EXPECT_EQ(errors_.at(0).field, "name");
}

TEST_F(CompilerTest, ToConfigRoundTrips) {
  Change change;
  change.all = base_->toConfig();
  change.all.listeners.push_back({"l", "127.0.0.1:0", "http"});
  auto next = apply(base_.get(), change);
  ASSERT_NE(next, nullptr);
  auto config = next->toConfig();
  EXPECT_EQ(config.listeners.size(), 1u);
  ASSERT_EQ(config.routes.size(), 2u);
  EXPECT_EQ(config.routes[0].id, "ra");
  EXPECT_EQ(config.routes[1].id, "rb");
  ASSERT_EQ(config.services.size(), 2u);
  EXPECT_EQ(config.services[1].name, "b");
}

TEST_F(CompilerTest, ManyInsertsAtOnePlaceStayOrdered) {
  // Every new route has the same key, so each goes right after the previous one, in the gap
  // before the next group ("/ra/" and "/rb/" prefixes are as long, so they are that group).
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  std::shared_ptr<const Snapshot> current = base_;
  constexpr int kInserts = 2000;
  for (int i = 0; i < kInserts; ++i) {
    change.route = makeRoute("n" + std::to_string(i), "b");
    change.route.match.path_prefix = "/same/";
    current = apply(current.get(), change);
    ASSERT_NE(current, nullptr);
  }
  const auto& routes = current->routes();
  ASSERT_EQ(routes.size(), kInserts + 2u);
  for (size_t i = 1; i < routes.size(); ++i) ASSERT_LT(routes[i - 1]->rank, routes[i]->rank);
  EXPECT_EQ(current->match(MatchInput{"h", "/same/x", nullptr})->source.id, "n0");
  EXPECT_EQ(route(*current, "ra"), route(*base_, "ra"));
}

TEST(CompilerRankTest, RenumbersWhenTheGapIsExhausted) {
  // Each new route has a higher priority than all before, so it always lands first, between
  // rank 0 and the previous first route: the gap halves every time until none is left.
  Compiler compiler(1);
  std::vector<config::Error> errors;
  Change change;
  change.all.services = {makeService("s", {""})};
  auto current = compiler.apply(nullptr, change, errors);
  change.kind = Change::Kind::kUpsertRoute;
  for (int i = 0; i < 80; ++i) {
    change.route = makeRoute("r" + std::to_string(i), "s");
    change.route.priority = i;
    current = compiler.apply(current.get(), change, errors);
    ASSERT_NE(current, nullptr);
  }
  const auto& routes = current->routes();
  ASSERT_EQ(routes.size(), 80u);
  for (size_t i = 0; i < routes.size(); ++i) {
    EXPECT_EQ(routes[i]->source.priority, 79 - static_cast<int>(i));
    if (i > 0) {
      EXPECT_LT(routes[i - 1]->rank, routes[i]->rank);
    }
  }
  // Renumbering happened: ranks spaced a full gap (2^32) apart exist again.
  EXPECT_EQ(routes.back()->rank % (uint64_t{1} << 32), 0u);
  EXPECT_EQ(current->toConfig().routes.at(0).id, "r0");  // document order kept
}

TEST(EndpointIdTest, StableAndDistinct) {
  uint32_t a = endpointId("10.9.9.1:80");
  uint32_t b = endpointId("10.9.9.2:80");
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(endpointId("10.9.9.1:80"), a);
  std::vector<std::thread> threads;
  std::vector<uint32_t> ids(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ids, t] { ids[t] = endpointId("10.9.9.3:80"); });
  }
  for (auto& thread : threads) thread.join();
  for (uint32_t id : ids) EXPECT_EQ(id, ids[0]);
}

TEST(SocketAddressTest, Parses) {
  sockaddr_storage addr;
  socklen_t len = 0;
  ASSERT_TRUE(parseSocketAddress("127.0.0.1:9091", addr, len));
  EXPECT_EQ(addr.ss_family, AF_INET);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port), 9091);
  ASSERT_TRUE(parseSocketAddress("[::1]:443", addr, len));
  EXPECT_EQ(addr.ss_family, AF_INET6);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  std::string why;
  EXPECT_FALSE(parseSocketAddress("example.com:80", addr, len, &why));
  EXPECT_EQ(why, "an IP address is needed here, not a DNS name");
  for (const char* bad : {"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:0", "[::1]", "[::1]80",
                          ":80", "1.2.3.4:8x", "1.2.3.256:80", "[1.2.3.4]:80"}) {
    EXPECT_FALSE(parseSocketAddress(bad, addr, len)) << bad;
  }
}

}  // namespace
}  // namespace turnout::route

namespace turnout::route {
namespace {

TEST(DnsNameOfTest, NamesAreSeparatedFromIpLiterals) {
  EXPECT_EQ(dnsNameOf("api.example.com:443"), "api.example.com");
  EXPECT_EQ(dnsNameOf("localhost:80"), "localhost");
  EXPECT_EQ(dnsNameOf("10.0.0.1:80"), "");
  EXPECT_EQ(dnsNameOf("[::1]:80"), "");
}

}  // namespace
}  // namespace turnout::route
