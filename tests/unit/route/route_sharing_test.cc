// Structural sharing: a one-route or one-service change leaves almost every shard, chunk and
// host bucket pointer-equal to the previous snapshot's (DESIGN §2: O(changed), not O(total)).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "route/snapshot_state.h"

namespace turnout::route {
namespace {

constexpr int kCount = 2000;

config::Route exactHostRoute(int i) {
  config::Route route;
  route.id = "route-" + std::to_string(i);
  route.match.host = "h" + std::to_string(i) + ".example.com";
  route.split.push_back({"svc-" + std::to_string(i), "", 1});
  return route;
}

class RouteSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Change change;
    for (int i = 0; i < kCount; ++i) {
      config::Service service;
      service.name = "svc-" + std::to_string(i);
      service.endpoints.push_back(
          {"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80", "", 1});
      change.all.services.push_back(service);
      change.all.routes.push_back(exactHostRoute(i));
    }
    base_ = apply(nullptr, change);
    ASSERT_NE(base_, nullptr);
  }

  std::shared_ptr<const Snapshot> apply(const Snapshot* previous, const Change& change) {
    errors_.clear();
    auto next = compiler_.apply(previous, change, errors_);
    EXPECT_NE(next, nullptr) << (errors_.empty() ? "" : errors_[0].message);
    return next;
  }

  template <class V>
  static size_t sharedShards(const ShardedMap<V>& a, const ShardedMap<V>& b) {
    size_t same = 0;
    for (size_t i = 0; i < ShardedMap<V>::kShards; ++i) {
      same += a.shardIdentity(i) == b.shardIdentity(i) ? 1 : 0;
    }
    return same;
  }

  template <class T>
  static size_t sharedChunks(const ChunkedList<T>& a, const ChunkedList<T>& b) {
    size_t same = 0;
    for (size_t i = 0; i < std::min(a.chunkCount(), b.chunkCount()); ++i) {
      same += a.chunkIdentity(i) == b.chunkIdentity(i) ? 1 : 0;
    }
    return same;
  }

  static const PathNode* bucket(const Snapshot& s, const std::string& host) {
    const PathIndex* found = SnapshotAccess::state(s).hosts.exactHosts().find(host);
    return found != nullptr ? found->root() : nullptr;
  }

  Compiler compiler_{1};
  std::shared_ptr<const Snapshot> base_;
  std::vector<config::Error> errors_;
};

TEST_F(RouteSharingTest, OneRouteUpsertCopiesOneShardPerIndex) {
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route = exactHostRoute(5);
  change.route.match.path_prefix = "/new/";
  auto next = apply(base_.get(), change);
  const SnapshotState& a = SnapshotAccess::state(*base_);
  const SnapshotState& b = SnapshotAccess::state(*next);
  constexpr size_t kAll = ShardedMap<RouteEntry>::kShards;
  EXPECT_GE(sharedShards(a.hosts.exactHosts(), b.hosts.exactHosts()), kAll - 1);
  EXPECT_GE(sharedShards(a.route_by_id, b.route_by_id), kAll - 1);
  EXPECT_GE(sharedShards(a.users, b.users), kAll - 1);
  EXPECT_EQ(sharedShards(a.service_by_name, b.service_by_name), kAll);  // untouched
  EXPECT_GE(sharedChunks(a.ranked, b.ranked) + 2, a.ranked.chunkCount());
  EXPECT_GE(sharedChunks(a.route_docs, b.route_docs) + 1, a.route_docs.chunkCount());
  EXPECT_EQ(sharedChunks(a.service_docs, b.service_docs), a.service_docs.chunkCount());
  // Buckets: only the changed host's is new.
  EXPECT_NE(bucket(*next, "h5.example.com"), bucket(*base_, "h5.example.com"));
  for (int i : {0, 4, 6, 999, kCount - 1}) {
    std::string host = "h" + std::to_string(i) + ".example.com";
    EXPECT_EQ(bucket(*next, host), bucket(*base_, host)) << host;
  }
  EXPECT_EQ(next->match(MatchInput{"h5.example.com", "/new/x", nullptr})->source.id, "route-5");
  EXPECT_EQ(next->match(MatchInput{"h5.example.com", "/old", nullptr}), nullptr);
  EXPECT_NE(base_->match(MatchInput{"h5.example.com", "/old", nullptr}), nullptr);
}

TEST_F(RouteSharingTest, OneServiceUpsertSharesEveryRouteIndex) {
  Change change;
  change.kind = Change::Kind::kUpsertService;
  change.service.name = "svc-7";
  change.service.endpoints.push_back({"10.9.0.1:80", "", 1});
  auto next = apply(base_.get(), change);
  const SnapshotState& a = SnapshotAccess::state(*base_);
  const SnapshotState& b = SnapshotAccess::state(*next);
  constexpr size_t kAll = ShardedMap<RouteEntry>::kShards;
  EXPECT_GE(sharedShards(a.service_by_name, b.service_by_name), kAll - 1);
  EXPECT_EQ(sharedShards(a.route_by_id, b.route_by_id), kAll);
  EXPECT_EQ(sharedShards(a.hosts.exactHosts(), b.hosts.exactHosts()), kAll);
  EXPECT_EQ(sharedShards(a.users, b.users), kAll);
  EXPECT_EQ(sharedChunks(a.ranked, b.ranked), a.ranked.chunkCount());
  EXPECT_GE(sharedChunks(a.service_docs, b.service_docs) + 1, a.service_docs.chunkCount());
  EXPECT_EQ(next->toConfig().services[7].endpoints[0].address, "10.9.0.1:80");  // same place
}

TEST_F(RouteSharingTest, RemoveThenReAdd) {
  Change remove;
  remove.kind = Change::Kind::kRemoveRoute;
  remove.name = "route-3";
  auto removed = apply(base_.get(), remove);
  EXPECT_EQ(bucket(*removed, "h3.example.com"), nullptr);  // no empty bucket left behind
  EXPECT_EQ(removed->match(MatchInput{"h3.example.com", "/", nullptr}), nullptr);
  EXPECT_EQ(removed->routes().size(), kCount - 1u);

  // The service is free now, and can go too.
  Change remove_service;
  remove_service.kind = Change::Kind::kRemoveService;
  remove_service.name = "svc-3";
  auto no_service = apply(removed.get(), remove_service);
  EXPECT_EQ(no_service->service("svc-3"), nullptr);

  Change add;
  add.kind = Change::Kind::kUpsertRoute;
  add.route = exactHostRoute(3);
  add.route.split[0].service = "svc-4";
  auto again = apply(no_service.get(), add);
  EXPECT_EQ(again->match(MatchInput{"h3.example.com", "/", nullptr})->source.id, "route-3");
  auto config = again->toConfig();
  EXPECT_EQ(config.routes.back().id, "route-3");  // re-added: last in document order
  EXPECT_EQ(config.routes.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(bucket(*again, "h4.example.com"), bucket(*base_, "h4.example.com"));

  // svc-4 now has two users; removing it names both, in document order.
  Change busy;
  busy.kind = Change::Kind::kRemoveService;
  busy.name = "svc-4";
  errors_.clear();
  EXPECT_EQ(compiler_.apply(again.get(), busy, errors_), nullptr);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].message, "service 'svc-4' is still used by routes: route-4, route-3");
}

TEST(PathIndexTest, ForksMergeAndPrefixSemantics) {
  auto make = [](const std::string& id, const std::string& path, const std::string& prefix,
                 uint64_t rank) {
    auto route = std::make_shared<CompiledRoute>();
    route->source.id = id;
    route->source.match.path = path;
    route->source.match.path_prefix = prefix;
    route->rank = rank;
    return std::shared_ptr<const CompiledRoute>(std::move(route));
  };
  auto api = make("api", "", "/api", 30);
  auto users = make("users", "", "/api/users/", 20);
  auto me = make("me", "/api/users/me", "", 10);
  auto other = make("other", "", "/apple", 25);
  PathIndex index = PathIndex().with(api).with(users).with(me).with(other);
  auto best = [&](const PathIndex& idx, std::string_view path) -> std::string {
    const CompiledRoute* found = nullptr;
    idx.match(path, {}, found);
    return found != nullptr ? found->source.id : "-";
  };
  EXPECT_EQ(best(index, "/api/users/me"), "me");
  EXPECT_EQ(best(index, "/api/users/me/x"), "users");
  EXPECT_EQ(best(index, "/apix"), "api");  // a plain string prefix
  EXPECT_EQ(best(index, "/applesauce"), "other");
  EXPECT_EQ(best(index, "/ap"), "-");
  PathIndex fewer = index.without(*users).without(*other);
  EXPECT_EQ(best(fewer, "/api/users/me/x"), "api");
  EXPECT_EQ(best(fewer, "/api/users/me"), "me");
  EXPECT_EQ(best(index, "/api/users/me/x"), "users");  // the old index is untouched
  // Forks collapse again: "/api" holds a route and one child, which holds "/users/me" whole.
  const PathNode* root = fewer.root();
  ASSERT_EQ(root->children.size(), 1u);
  EXPECT_EQ(root->children[0]->label, "/api");
  ASSERT_EQ(root->children[0]->children.size(), 1u);
  EXPECT_EQ(root->children[0]->children[0]->label, "/users/me");
  EXPECT_TRUE(fewer.without(*api).without(*me).empty());
}

}  // namespace
}  // namespace turnout::route
