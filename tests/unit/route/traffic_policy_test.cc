// Traffic policy on compiled routes: path_separated_prefix, cookie matchers, version selectors,
// sticky versions, source scoping by the compiler's identity, and fault plans (fixed and
// header-driven, with their percentages).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "config/identity.h"
#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

using Headers = std::vector<http::HeaderField>;
using Cookie = VersionPick::Cookie;

constexpr const char* kServices = R"(services:
  - name: reviews
    endpoints:
      - {address: "10.0.0.1:80", version: v1}
      - {address: "10.0.0.2:80", version: v2}
      - {address: "10.0.0.3:80", version: v3}
  - name: ratings
    endpoints:
      - {address: "10.0.1.1:80", version: v1}
routes:
)";

// Compiles the two services above and `routes_yaml` with Change::kReplaceAll.
std::shared_ptr<const Snapshot> compile(const std::string& routes_yaml,
                                        const config::Identity& identity = {}) {
  Change change;
  change.kind = Change::Kind::kReplaceAll;
  auto parse_errors = config::parseDocument(std::string(kServices) + routes_yaml, change.all);
  EXPECT_TRUE(parse_errors.empty()) << config::formatError("doc", parse_errors.at(0));
  std::vector<config::Error> errors;
  auto snapshot = Compiler(1, identity).apply(nullptr, change, errors);
  EXPECT_NE(snapshot, nullptr) << (errors.empty() ? "" : config::formatError("", errors[0]));
  return snapshot;
}

const CompiledRoute& routeOf(const std::shared_ptr<const Snapshot>& snapshot,
                             std::string_view id) {
  const CompiledRoute* route = snapshot ? snapshot->route(id) : nullptr;
  if (route == nullptr) {
    ADD_FAILURE() << "no route " << id;
    static const CompiledRoute kNone;
    return kNone;
  }
  return *route;
}

std::string matchId(const Snapshot& snapshot, std::string_view path, const Headers& headers = {}) {
  const CompiledRoute* route = snapshot.match(MatchInput{"h", path, &headers});
  return route != nullptr ? route->source.id : "-";
}

const CompiledTarget& targetFor(const CompiledRoute& route, std::string_view version) {
  for (const CompiledTarget& target : route.targets) {
    if (target.version == version) return target;
  }
  ADD_FAILURE() << "no target " << version;
  static const CompiledTarget kNone;
  return kNone;
}

// The version picked, or "-" when none.
std::string picked(const VersionPick& pick) {
  return pick.target != nullptr ? pick.target->version : "-";
}

// ---- match.none ------------------------------------------------------------------------

TEST(TrafficPolicyTest, NoneClausesRejectRequestsThatHoldAnyOfThem) {
  auto s = compile(
      "  - id: picky\n"
      "    priority: 1\n"
      "    match:\n"
      "      path_prefix: /\n"
      "      none:\n"
      "        - {headers: {X-Bot: \".\"}}\n"
      "        - {headers: {X-Env: \"^test$\"}, cookies: {user: jason}}\n"
      "        - {source: \"other:v1\"}\n"  // not our identity: never holds
      "    split: [{service: reviews, version: v1}]\n"
      "  - id: rest\n"
      "    split: [{service: reviews, version: v2}]\n",
      config::Identity::parse("productpage:v1"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/x"), "picky");
  EXPECT_EQ(matchId(*s, "/x", {{"X-Bot", "1"}}), "rest");
  // The second clause needs both of its conditions.
  EXPECT_EQ(matchId(*s, "/x", {{"X-Env", "test"}}), "picky");
  EXPECT_EQ(matchId(*s, "/x", {{"Cookie", "user=jason"}}), "picky");
  EXPECT_EQ(matchId(*s, "/x", {{"X-Env", "test"}, {"Cookie", "user=jason"}}), "rest");
}

TEST(TrafficPolicyTest, NoneClauseNamingThisIdentityAlwaysHolds) {
  auto s = compile(
      "  - id: picky\n"
      "    priority: 1\n"
      "    match: {none: [{source: \"productpage\"}]}\n"
      "    split: [{service: reviews, version: v1}]\n"
      "  - id: rest\n"
      "    split: [{service: reviews, version: v2}]\n",
      config::Identity::parse("productpage:v1"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/x"), "rest");
}

// ---- path_separated_prefix ------------------------------------------------------------

TEST(TrafficPolicyTest, PathSeparatedPrefixMatchesWholeSegments) {
  auto s = compile(
      "  - {id: hello, match: {path_separated_prefix: /hello}, rewrite: {strip_prefix: true},\n"
      "     split: [{service: reviews}]}\n"
      "  - {id: rest, split: [{service: ratings}]}\n");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/hello"), "hello");
  EXPECT_EQ(matchId(*s, "/hello/"), "hello");
  EXPECT_EQ(matchId(*s, "/hello/x"), "hello");
  EXPECT_EQ(matchId(*s, "/hello/x/y"), "hello");
  EXPECT_EQ(matchId(*s, "/hellox"), "rest");
  EXPECT_EQ(matchId(*s, "/hell"), "rest");
  EXPECT_EQ(matchId(*s, "/"), "rest");
  EXPECT_EQ(matchId(*s, "/x/hello"), "rest");
  const CompiledRoute& hello = routeOf(s, "hello");
  EXPECT_TRUE(hello.matchesRequest("/hello", {}));
  EXPECT_TRUE(hello.matchesRequest("/hello/x", {}));
  EXPECT_FALSE(hello.matchesRequest("/hellox", {}));
  EXPECT_FALSE(hello.matchesRequest("/hell", {}));
  EXPECT_EQ(hello.prefix(), "/hello");
}

TEST(TrafficPolicyTest, PathSeparatedPrefixStripping) {
  auto s = compile(
      "  - {id: strip, match: {path_separated_prefix: /hello}, rewrite: {strip_prefix: true},\n"
      "     split: [{service: reviews}]}\n"
      "  - {id: keep, match: {path_separated_prefix: /keep}, split: [{service: reviews}]}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& strip = routeOf(s, "strip");
  EXPECT_EQ(strip.upstreamPath("/hello"), "/");
  EXPECT_EQ(strip.upstreamPath("/hello/"), "/");
  EXPECT_EQ(strip.upstreamPath("/hello/x"), "/x");
  EXPECT_EQ(strip.upstreamPath("/hello/x/y"), "/x/y");
  const CompiledRoute& keep = routeOf(s, "keep");
  EXPECT_EQ(keep.upstreamPath("/keep"), "/keep");
  EXPECT_EQ(keep.upstreamPath("/keep/x"), "/keep/x");
}

TEST(TrafficPolicyTest, NoRouteWhenOnlyASeparatedPrefixRouteExists) {
  auto s = compile(
      "  - {id: hello, match: {path_separated_prefix: /hello}, split: [{service: reviews}]}\n");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/hellox"), "-");
  EXPECT_EQ(matchId(*s, "/hello"), "hello");
}

TEST(TrafficPolicyTest, LongerSeparatedPrefixWins) {
  auto s = compile(
      "  - {id: api, match: {path_separated_prefix: /api}, split: [{service: reviews}]}\n"
      "  - {id: users, match: {path_separated_prefix: /api/users}, split: [{service: reviews}]}\n");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/api/users"), "users");
  EXPECT_EQ(matchId(*s, "/api/users/7"), "users");
  EXPECT_EQ(matchId(*s, "/api/usersx"), "api");
  EXPECT_EQ(matchId(*s, "/api"), "api");
}

// ---- cookies -----------------------------------------------------------------------------

TEST(TrafficPolicyTest, FindCookie) {
  bool found = false;
  Headers h = {{"Cookie", "a=1; user=jason;  env=qa"}, {"cookie", "late=\"quoted\""}};
  EXPECT_EQ(findCookie(h, "user", &found), "jason");
  EXPECT_TRUE(found);
  EXPECT_EQ(findCookie(h, "env", &found), "qa");
  EXPECT_TRUE(found);
  EXPECT_EQ(findCookie(h, "a", &found), "1");
  EXPECT_TRUE(found);
  EXPECT_EQ(findCookie(h, "late", &found), "quoted");
  EXPECT_TRUE(found);
  EXPECT_EQ(findCookie(h, "use", &found), "");
  EXPECT_FALSE(found);
  EXPECT_EQ(findCookie(h, "User", &found), "");  // names are case-sensitive
  EXPECT_FALSE(found);
  Headers empty_value = {{"COOKIE", "x=; y=2"}};
  EXPECT_EQ(findCookie(empty_value, "x", &found), "");
  EXPECT_TRUE(found);
  EXPECT_EQ(findCookie(empty_value, "y", &found), "2");
  EXPECT_TRUE(found);
  Headers not_cookie = {{"Set-Cookie", "user=jason"}, {"X-Cookie", "user=jason"}};
  EXPECT_EQ(findCookie(not_cookie, "user", &found), "");
  EXPECT_FALSE(found);
}

TEST(TrafficPolicyTest, RouteCookieMatch) {
  auto s = compile(
      "  - {id: qa, match: {cookies: {user: jason, env: qa}}, split: [{service: reviews}]}\n"
      "  - {id: rest, split: [{service: ratings}]}\n");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "user=jason; env=qa"}}), "qa");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "user=jason"}, {"cookie", "env=qa"}}), "qa");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "a=1;   user=jason;env=qa  "}}), "qa");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "\tuser=jason; env=\"qa\""}}), "qa");
  EXPECT_EQ(matchId(*s, "/", {{"COOKIE", "env=qa; user=\"jason\""}}), "qa");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "user=jason"}}), "rest");  // env missing
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "user=jasonx; env=qa"}}), "rest");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "xuser=jason; env=qa"}}), "rest");
  EXPECT_EQ(matchId(*s, "/", {{"Cookie", "user=Jason; env=qa"}}), "rest");
  EXPECT_EQ(matchId(*s, "/", {{"X-Cookie", "user=jason; env=qa"}}), "rest");
  EXPECT_EQ(matchId(*s, "/"), "rest");
}

// ---- selectors ---------------------------------------------------------------------------

constexpr const char* kSelectorRoute =
    "  - id: r\n"
    "    split:\n"
    "      - {service: reviews, version: v2, weight: 10000, match: {headers: {x-test: \"^a\"}}}\n"
    "      - {service: reviews, version: v3, weight: 10000, match: {cookies: {user: jason}}}\n"
    "      - {service: reviews, version: v1, weight: 1}\n";

TEST(TrafficPolicyTest, FirstMatchingSelectorWins) {
  auto s = compile(kSelectorRoute);
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  EXPECT_TRUE(r.has_selectors);
  EXPECT_EQ(r.total_weight, 1u);
  std::mt19937_64 rng(42);
  EXPECT_EQ(picked(r.pickVersion({{"X-Test", "abc"}}, rng)), "v2");
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "abc"}, {"Cookie", "user=jason"}}, rng)), "v2");
  EXPECT_EQ(picked(r.pickVersion({{"Cookie", "user=jason"}, {"x-test", "abc"}}, rng)), "v2");
  EXPECT_EQ(picked(r.pickVersion({{"Cookie", "user=jason"}}, rng)), "v3");
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "ba"}, {"Cookie", "user=jason"}}, rng)), "v3");
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "ba"}}, rng)), "v1");
  EXPECT_EQ(picked(r.pickVersion({{"Cookie", "user=jasonx"}}, rng)), "v1");
  // Not sticky: no cookie to set.
  EXPECT_EQ(r.pickVersion({{"x-test", "a"}}, rng).cookie, Cookie::kKeep);
}

TEST(TrafficPolicyTest, SelectorsAreNeverDrawnByWeight) {
  auto s = compile(kSelectorRoute);
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(7);
  std::map<std::string, int> counts;
  for (int i = 0; i < 10000; ++i) ++counts[picked(r.pickVersion({}, rng))];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"v1", 10000}}));
  counts.clear();
  for (int i = 0; i < 10000; ++i) ++counts[picked(r.pickVersion({{"x-other", "a"}}, rng))];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"v1", 10000}}));
  counts.clear();
  for (int i = 0; i < 1000; ++i) {
    const CompiledTarget* target = r.pickTarget(rng);
    ASSERT_NE(target, nullptr);
    ++counts[target->version];
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"v1", 1000}}));
}

TEST(TrafficPolicyTest, UnanchoredSelectorPattern) {
  auto s = compile(
      "  - id: r\n"
      "    split:\n"
      "      - {service: reviews, version: v2, match: {headers: {x-test: \"canary\"}}}\n"
      "      - {service: reviews, version: v1}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(1);
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "is-canary-build"}}, rng)), "v2");
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "stable"}, {"x-test", "canary"}}, rng)), "v2");
  EXPECT_EQ(picked(r.pickVersion({{"x-test", "canar"}}, rng)), "v1");
}

TEST(TrafficPolicyTest, WeightedDrawFollowsWeights) {
  auto s = compile(
      "  - id: r\n"
      "    split: [{service: reviews, version: v1, weight: 75}, {service: reviews, version: v2, "
      "weight: 25}, {service: reviews, version: v3, weight: 0}]\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(2024);
  std::map<std::string, int> counts;
  for (int i = 0; i < 100000; ++i) ++counts[picked(r.pickVersion({}, rng))];
  EXPECT_EQ(counts.count("v3"), 0u);
  EXPECT_NEAR(counts["v1"], 75000, 1000);
  EXPECT_NEAR(counts["v2"], 25000, 1000);
}

// ---- sticky ------------------------------------------------------------------------------

constexpr const char* kStickyRoute =
    "  - id: r\n"
    "    match: {path_separated_prefix: /reviews}\n"
    "    split: [{service: reviews, version: v1, weight: 50}, {service: reviews, version: v2, "
    "weight: 50}]\n"
    "    sticky: {cookie: version}\n";

TEST(TrafficPolicyTest, StickyCookieLines) {
  auto s = compile(std::string(kStickyRoute) +
                   "  - {id: p, match: {path_prefix: /p/}, split: [{service: reviews}], "
                   "sticky: {cookie: v, path: /custom}}\n"
                   "  - {id: none, split: [{service: reviews}], sticky: {cookie: v}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledSticky& sticky = routeOf(s, "r").sticky;
  EXPECT_EQ(sticky.cookie, "version");
  EXPECT_TRUE(sticky.several_labels);
  EXPECT_EQ(sticky.set_prefix, "Set-Cookie: version=");
  EXPECT_EQ(sticky.set_suffix, "; Path=/reviews\r\n");
  EXPECT_EQ(sticky.expire_line,
            "Set-Cookie: version=; Path=/reviews; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 "
            "GMT\r\n");
  EXPECT_EQ(routeOf(s, "p").sticky.set_suffix, "; Path=/custom\r\n");
  EXPECT_FALSE(routeOf(s, "p").sticky.several_labels);
  EXPECT_EQ(routeOf(s, "none").sticky.set_suffix, "; Path=/\r\n");
}

TEST(TrafficPolicyTest, ValidStickyCookieIsHonoured) {
  auto s = compile(kStickyRoute);
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    VersionPick pick = r.pickVersion({{"Cookie", "foo=1;  version=v2"}}, rng);
    ASSERT_EQ(picked(pick), "v2");
    ASSERT_EQ(pick.cookie, Cookie::kKeep);
    pick = r.pickVersion({{"Cookie", "version=\"v1\""}}, rng);
    ASSERT_EQ(picked(pick), "v1");
    ASSERT_EQ(pick.cookie, Cookie::kKeep);
  }
}

TEST(TrafficPolicyTest, StaleOrMissingStickyCookieIsSet) {
  auto s = compile(kStickyRoute);
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(4);
  std::map<std::string, int> counts;
  for (int i = 0; i < 2000; ++i) {
    for (const Headers& h : {Headers{{"Cookie", "version=v9"}}, Headers{{"Cookie", "version="}},
                             Headers{{"Cookie", "other=v1"}}, Headers{}}) {
      VersionPick pick = r.pickVersion(h, rng);
      ASSERT_NE(pick.target, nullptr);
      ASSERT_EQ(pick.cookie, Cookie::kSet);
      ++counts[picked(pick)];
    }
  }
  // The re-pick is the weighted draw.
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts["v1"], 4000, 400);
  EXPECT_NEAR(counts["v2"], 4000, 400);
}

TEST(TrafficPolicyTest, StickyCookieBeatsSelectors) {
  auto s = compile(
      "  - id: r\n"
      "    split:\n"
      "      - {service: reviews, version: v3, match: {headers: {x-test: \"1\"}}}\n"
      "      - {service: reviews, version: v1, weight: 50}\n"
      "      - {service: reviews, version: v2, weight: 50}\n"
      "    sticky: {cookie: version}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(5);
  VersionPick pick = r.pickVersion({{"x-test", "1"}, {"Cookie", "version=v1"}}, rng);
  EXPECT_EQ(picked(pick), "v1");
  EXPECT_EQ(pick.cookie, Cookie::kKeep);
  pick = r.pickVersion({{"x-test", "1"}}, rng);
  EXPECT_EQ(picked(pick), "v3");
  EXPECT_EQ(pick.cookie, Cookie::kSet);
  // A cookie naming the selector's version sticks to it too.
  pick = r.pickVersion({{"Cookie", "version=v3"}}, rng);
  EXPECT_EQ(picked(pick), "v3");
  EXPECT_EQ(pick.cookie, Cookie::kKeep);
}

TEST(TrafficPolicyTest, SingleLabelRouteExpiresLeftoverCookie) {
  auto s = compile(
      "  - id: one\n"
      "    split: [{service: reviews, version: v1}]\n"
      "    sticky: {cookie: version}\n"
      "  - id: same\n"
      "    split: [{service: reviews, version: v1, weight: 3}, {service: reviews, version: v1}]\n"
      "    sticky: {cookie: version}\n");
  ASSERT_NE(s, nullptr);
  std::mt19937_64 rng(6);
  for (std::string_view id : {"one", "same"}) {
    const CompiledRoute& r = routeOf(s, id);
    EXPECT_FALSE(r.sticky.several_labels) << id;
    for (const char* cookie : {"version=v1", "version=v2", "version="}) {
      VersionPick pick = r.pickVersion({{"Cookie", cookie}}, rng);
      EXPECT_EQ(picked(pick), "v1") << id << " " << cookie;
      EXPECT_EQ(pick.cookie, Cookie::kExpire) << id << " " << cookie;
    }
    VersionPick pick = r.pickVersion({}, rng);
    EXPECT_EQ(picked(pick), "v1") << id;
    EXPECT_EQ(pick.cookie, Cookie::kKeep) << id;
    pick = r.pickVersion({{"Cookie", "other=v1"}}, rng);
    EXPECT_EQ(pick.cookie, Cookie::kKeep) << id;
  }
}

TEST(TrafficPolicyTest, LabelsSpanServices) {
  auto s = compile(
      "  - id: mixed\n"
      "    split: [{service: reviews, version: v1}, {service: ratings, version: v1}]\n"
      "    sticky: {cookie: version}\n"
      "  - id: single\n"
      "    split: [{service: reviews, version: v1}, {service: reviews, version: v2}]\n"
      "    sticky: {cookie: version}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& mixed = routeOf(s, "mixed");
  ASSERT_EQ(mixed.targets.size(), 2u);
  EXPECT_EQ(mixed.targets[0].label, "reviews:v1");
  EXPECT_EQ(mixed.targets[1].label, "ratings:v1");
  EXPECT_TRUE(mixed.sticky.several_labels);
  const CompiledRoute& single = routeOf(s, "single");
  EXPECT_EQ(single.targets[0].label, "v1");
  EXPECT_EQ(single.targets[1].label, "v2");
  std::mt19937_64 rng(8);
  for (int i = 0; i < 100; ++i) {
    VersionPick pick = mixed.pickVersion({{"Cookie", "version=ratings:v1"}}, rng);
    ASSERT_NE(pick.target, nullptr);
    ASSERT_EQ(pick.target->service, "ratings");
    ASSERT_EQ(pick.cookie, Cookie::kKeep);
    pick = mixed.pickVersion({{"Cookie", "version=reviews:v1"}}, rng);
    ASSERT_EQ(pick.target->service, "reviews");
    ASSERT_EQ(pick.cookie, Cookie::kKeep);
  }
  // The bare version is no label of a mixed split: re-picked and set.
  EXPECT_EQ(mixed.pickVersion({{"Cookie", "version=v1"}}, rng).cookie, Cookie::kSet);
}

// ---- source scoping ----------------------------------------------------------------------

constexpr const char* kScopedRoutes =
    "  - {id: theirs, priority: 10, match: {source: reviews}, split: [{service: reviews, version: "
    "v1}]}\n"
    "  - {id: mine, priority: 5, match: {source: \"productpage:v1\"}, split: [{service: reviews, "
    "version: v2}]}\n"
    "  - {id: open, split: [{service: reviews, version: v3}]}\n";

TEST(TrafficPolicyTest, RoutesOfOtherSourcesAreInert) {
  auto s = compile(kScopedRoutes, config::Identity::parse("productpage:v1"));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(routeOf(s, "theirs").never);
  EXPECT_FALSE(routeOf(s, "mine").never);
  EXPECT_FALSE(routeOf(s, "theirs").matchesRequest("/", {}));
  EXPECT_EQ(matchId(*s, "/"), "mine");

  auto underscore = compile(
      "  - {id: mine, priority: 5, match: {source: productpage_v1}, split: [{service: reviews}]}\n"
      "  - {id: open, split: [{service: reviews, version: v3}]}\n",
      config::Identity::parse("productpage:v1"));
  ASSERT_NE(underscore, nullptr);
  EXPECT_EQ(matchId(*underscore, "/"), "mine");

  auto other = compile(kScopedRoutes, config::Identity::parse("productpage:v2"));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(matchId(*other, "/"), "open");

  auto reviewer = compile(kScopedRoutes, config::Identity::parse("reviews:v9"));
  ASSERT_NE(reviewer, nullptr);
  EXPECT_EQ(matchId(*reviewer, "/"), "theirs");

  // Without an identity only unscoped routes apply.
  auto anonymous = compile(kScopedRoutes);
  ASSERT_NE(anonymous, nullptr);
  EXPECT_TRUE(routeOf(anonymous, "theirs").never);
  EXPECT_TRUE(routeOf(anonymous, "mine").never);
  EXPECT_EQ(matchId(*anonymous, "/"), "open");
}

constexpr const char* kScopedSelectors =
    "  - id: r\n"
    "    split:\n"
    "      - {service: reviews, version: v2, match: {source: reviews}}\n"
    "      - {service: reviews, version: v3, match: {source: \"productpage:v1\", headers: {x: "
    "\"1\"}}}\n"
    "      - {service: reviews, version: v1}\n";

TEST(TrafficPolicyTest, SelectorsOfOtherSourcesAreInert) {
  std::mt19937_64 rng(9);
  auto s = compile(kScopedSelectors, config::Identity::parse("productpage:v1"));
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  ASSERT_NE(r.targets[0].selector, nullptr);
  EXPECT_TRUE(r.targets[0].selector->never);
  EXPECT_FALSE(r.targets[1].selector->never);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(picked(r.pickVersion({}, rng)), "v1");
    ASSERT_EQ(picked(r.pickVersion({{"x", "1"}}, rng)), "v3");
  }
  // For reviews, the source-only selector takes every request.
  auto reviewer = compile(kScopedSelectors, config::Identity::parse("reviews:v1"));
  ASSERT_NE(reviewer, nullptr);
  const CompiledRoute& rr = routeOf(reviewer, "r");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(picked(rr.pickVersion({}, rng)), "v2");
    ASSERT_EQ(picked(rr.pickVersion({{"x", "1"}}, rng)), "v2");
  }
  auto anonymous = compile(kScopedSelectors);
  ASSERT_NE(anonymous, nullptr);
  const CompiledRoute& ra = routeOf(anonymous, "r");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(picked(ra.pickVersion({{"x", "1"}}, rng)), "v1");
}

constexpr const char* kScopedFaults =
    "  - id: r\n"
    "    split: [{service: reviews, version: v1}]\n"
    "    faults:\n"
    "      - {match: {source: reviews}, abort: {status: 503}}\n"
    "      - {match: {source: productpage}, delay: {seconds: 0.1}}\n"
    "      - {match: {source: productpage_v2}, delay: {seconds: 0.2}}\n"
    "      - {delay: {seconds: 0.004}}\n";

TEST(TrafficPolicyTest, FaultsOfOtherSourcesAreInert) {
  std::mt19937_64 rng(10);
  auto s = compile(kScopedFaults, config::Identity::parse("productpage:v1"));
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  EXPECT_EQ(r.faults.size(), 2u);
  FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
  EXPECT_EQ(plan.delay_ms, 104u);
  EXPECT_EQ(plan.abort_status, 0u);

  auto v2 = compile(kScopedFaults, config::Identity::parse("productpage:v2"));
  ASSERT_NE(v2, nullptr);
  const CompiledRoute& r2 = routeOf(v2, "r");
  EXPECT_EQ(r2.faults.size(), 3u);
  EXPECT_EQ(r2.planFaults(targetFor(r2, "v1"), {}, rng).delay_ms, 304u);

  auto anonymous = compile(kScopedFaults);
  ASSERT_NE(anonymous, nullptr);
  const CompiledRoute& ra = routeOf(anonymous, "r");
  EXPECT_EQ(ra.faults.size(), 1u);
  plan = ra.planFaults(targetFor(ra, "v1"), {}, rng);
  EXPECT_EQ(plan.delay_ms, 4u);
  EXPECT_EQ(plan.abort_status, 0u);
}

// ---- fault plans -------------------------------------------------------------------------

// A route on reviews v1/v2 (50/50) with `faults_yaml` as its faults list.
std::shared_ptr<const Snapshot> faultRoute(const std::string& faults_yaml) {
  return compile(
      "  - id: r\n"
      "    split: [{service: reviews, version: v1}, {service: reviews, version: v2}]\n"
      "    faults:\n" +
      faults_yaml);
}

TEST(TrafficPolicyTest, FaultVersionFilter) {
  auto s = faultRoute("      - {version: v2, abort: {status: 503}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(11);
  FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
  EXPECT_FALSE(plan.any());
  plan = r.planFaults(targetFor(r, "v2"), {}, rng);
  EXPECT_TRUE(plan.any());
  EXPECT_EQ(plan.abort_status, 503u);
  EXPECT_FALSE(plan.drop);
}

TEST(TrafficPolicyTest, FaultHeaderPatternIsUnanchored) {
  auto s = faultRoute("      - {match: {headers: {X-Gremlin-Id: \"test-\"}}, abort: {status: 500}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  const CompiledTarget& v1 = targetFor(r, "v1");
  std::mt19937_64 rng(12);
  EXPECT_EQ(r.planFaults(v1, {{"x-gremlin-id", "my-test-1"}}, rng).abort_status, 500u);
  EXPECT_EQ(r.planFaults(v1, {{"X-GREMLIN-ID", "test-"}}, rng).abort_status, 500u);
  EXPECT_EQ(r.planFaults(v1, {{"X-Gremlin-Id", "tes"}}, rng).abort_status, 0u);
  EXPECT_EQ(r.planFaults(v1, {{"X-Other", "test-1"}}, rng).abort_status, 0u);
  EXPECT_EQ(r.planFaults(v1, {}, rng).abort_status, 0u);
}

TEST(TrafficPolicyTest, FaultCookieCondition) {
  auto s = faultRoute("      - {match: {cookies: {user: jason}}, abort: {status: 418}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(13);
  EXPECT_EQ(r.planFaults(targetFor(r, "v1"), {{"Cookie", "a=b; user=jason"}}, rng).abort_status,
            418u);
  EXPECT_EQ(r.planFaults(targetFor(r, "v1"), {{"Cookie", "user=bob"}}, rng).abort_status, 0u);
}

TEST(TrafficPolicyTest, DelaysAddUp) {
  auto s = faultRoute(
      "      - {delay: {seconds: 0.1}}\n"
      "      - {delay: {seconds: 0.25}}\n"
      "      - {version: v2, delay: {seconds: 1}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(14);
  FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
  EXPECT_EQ(plan.delay_ms, 350u);
  EXPECT_EQ(plan.abort_status, 0u);
  EXPECT_FALSE(plan.drop);
  EXPECT_TRUE(plan.any());
  EXPECT_EQ(r.planFaults(targetFor(r, "v2"), {}, rng).delay_ms, 1350u);
}

TEST(TrafficPolicyTest, FirstAbortWins) {
  std::mt19937_64 rng(15);
  {
    auto s = faultRoute(
        "      - {abort: {status: 503}}\n"
        "      - {abort: {status: 404}}\n"
        "      - {abort: {status: drop}}\n");
    ASSERT_NE(s, nullptr);
    const CompiledRoute& r = routeOf(s, "r");
    FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
    EXPECT_EQ(plan.abort_status, 503u);
    EXPECT_FALSE(plan.drop);
  }
  {
    auto s = faultRoute(
        "      - {abort: {status: drop}}\n"
        "      - {abort: {status: 503}}\n");
    ASSERT_NE(s, nullptr);
    const CompiledRoute& r = routeOf(s, "r");
    FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
    EXPECT_TRUE(plan.drop);
    EXPECT_EQ(plan.abort_status, 0u);
    EXPECT_TRUE(plan.any());
  }
  {
    // An abort that does not fire (percent 0) leaves the place to the next one; a delay
    // after an abort still adds up.
    auto s = faultRoute(
        "      - {abort: {status: 500, percent: 0}}\n"
        "      - {delay: {seconds: 0.01}, abort: {status: 502}}\n"
        "      - {delay: {seconds: 0.02}, abort: {status: 504}}\n");
    ASSERT_NE(s, nullptr);
    const CompiledRoute& r = routeOf(s, "r");
    FaultPlan plan = r.planFaults(targetFor(r, "v1"), {}, rng);
    EXPECT_EQ(plan.abort_status, 502u);
    EXPECT_EQ(plan.delay_ms, 30u);
  }
}

TEST(TrafficPolicyTest, DropAlone) {
  auto s = faultRoute("      - {abort: {status: drop}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(16);
  FaultPlan plan = r.planFaults(targetFor(r, "v2"), {}, rng);
  EXPECT_TRUE(plan.drop);
  EXPECT_EQ(plan.abort_status, 0u);
  EXPECT_EQ(plan.delay_ms, 0u);
  EXPECT_TRUE(plan.any());
}

TEST(TrafficPolicyTest, TriggerFromTheFirstAppliedFault) {
  auto s = faultRoute(
      "      - {match: {headers: {X-Gremlin-Id: \"^a\"}}, delay: {seconds: 0.001}}\n"
      "      - {match: {headers: {X-Other: \"b\"}}, delay: {seconds: 0.002}}\n"
      "      - {match: {headers: {X-Never: \"c\"}}, delay: {seconds: 0.004, percent: 0}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  const CompiledTarget& v1 = targetFor(r, "v1");
  std::mt19937_64 rng(17);
  Headers both = {{"x-other", "abc"}, {"x-gremlin-id", "a-1"}};
  FaultPlan plan = r.planFaults(v1, both, rng);
  EXPECT_EQ(plan.delay_ms, 3u);
  EXPECT_EQ(plan.trigger_name, "X-Gremlin-Id");
  EXPECT_EQ(plan.trigger_value, "a-1");
  Headers second = {{"X-Other", "xbx"}, {"x-gremlin-id", "zzz"}};
  plan = r.planFaults(v1, second, rng);
  EXPECT_EQ(plan.delay_ms, 2u);
  EXPECT_EQ(plan.trigger_name, "X-Other");
  EXPECT_EQ(plan.trigger_value, "xbx");
  // A fault that matched but did not fire names nothing.
  Headers never = {{"X-Never", "c"}};
  plan = r.planFaults(v1, never, rng);
  EXPECT_FALSE(plan.any());
  EXPECT_EQ(plan.trigger_name, "");
  EXPECT_EQ(plan.trigger_value, "");
  Headers never_then_other = {{"X-Never", "c"}, {"X-Other", "b"}};
  plan = r.planFaults(v1, never_then_other, rng);
  EXPECT_EQ(plan.delay_ms, 2u);
  EXPECT_EQ(plan.trigger_name, "X-Other");
  EXPECT_EQ(plan.trigger_value, "b");
  Headers none;
  plan = r.planFaults(v1, none, rng);
  EXPECT_FALSE(plan.any());
  EXPECT_EQ(plan.trigger_name, "");
}

int countFired(const CompiledRoute& r, const Headers& headers, int draws, uint64_t seed,
               bool delays) {
  std::mt19937_64 rng(seed);
  const CompiledTarget& target = targetFor(r, "v1");
  int fired = 0;
  for (int i = 0; i < draws; ++i) {
    FaultPlan plan = r.planFaults(target, headers, rng);
    fired += delays ? (plan.delay_ms > 0) : (plan.abort_status != 0 || plan.drop);
  }
  return fired;
}

TEST(TrafficPolicyTest, PercentThirty) {
  auto s = faultRoute(
      "      - {delay: {seconds: 0.001, percent: 30}}\n"
      "      - {abort: {status: 503, percent: 30}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  int delays = countFired(r, {}, 100000, 101, true);
  EXPECT_GE(delays, 29000);
  EXPECT_LE(delays, 31000);
  int aborts = countFired(r, {}, 100000, 102, false);
  EXPECT_GE(aborts, 29000);
  EXPECT_LE(aborts, 31000);
}

TEST(TrafficPolicyTest, PercentOneHundredthOfAPercent) {
  auto s = faultRoute("      - {abort: {status: 503, percent: 0.01}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  int aborts = countFired(r, {}, 1000000, 103, false);
  EXPECT_GE(aborts, 50);
  EXPECT_LE(aborts, 150);
}

TEST(TrafficPolicyTest, PercentHundredAlwaysAndZeroNever) {
  auto always = faultRoute("      - {delay: {seconds: 0.001, percent: 100}, abort: {status: 503}}\n");
  ASSERT_NE(always, nullptr);
  EXPECT_EQ(countFired(routeOf(always, "r"), {}, 10000, 104, true), 10000);
  EXPECT_EQ(countFired(routeOf(always, "r"), {}, 10000, 105, false), 10000);
  auto never = faultRoute(
      "      - {delay: {seconds: 0.001, percent: 0}, abort: {status: 503, percent: 0}}\n");
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(countFired(routeOf(never, "r"), {}, 10000, 106, true), 0);
  EXPECT_EQ(countFired(routeOf(never, "r"), {}, 10000, 107, false), 0);
}

TEST(TrafficPolicyTest, DelayFromHeader) {
  auto s = faultRoute("      - {delay: {from_header: true}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  const CompiledTarget& v1 = targetFor(r, "v1");
  std::mt19937_64 rng(18);
  EXPECT_EQ(r.planFaults(v1, {{"x-envoy-fault-delay-request", "250"}}, rng).delay_ms, 250u);
  EXPECT_EQ(r.planFaults(v1, {{"X-Envoy-Fault-Delay-Request", "1"}}, rng).delay_ms, 1u);
  EXPECT_FALSE(r.planFaults(v1, {}, rng).any());
  for (const char* bad : {"abc", "-5", "", "0", "2.5", "250ms", " 250x", "99999999999"}) {
    EXPECT_FALSE(r.planFaults(v1, {{"x-envoy-fault-delay-request", bad}}, rng).any()) << bad;
  }
  // The abort header does nothing to a delay-only fault.
  EXPECT_FALSE(r.planFaults(v1, {{"x-envoy-fault-abort-request", "503"}}, rng).any());
}

TEST(TrafficPolicyTest, AbortFromHeader) {
  auto s = faultRoute("      - {abort: {from_header: true}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  const CompiledTarget& v1 = targetFor(r, "v1");
  std::mt19937_64 rng(19);
  EXPECT_EQ(r.planFaults(v1, {{"x-envoy-fault-abort-request", "503"}}, rng).abort_status, 503u);
  EXPECT_EQ(r.planFaults(v1, {{"x-envoy-fault-abort-request", "200"}}, rng).abort_status, 200u);
  EXPECT_EQ(r.planFaults(v1, {{"x-envoy-fault-abort-request", "599"}}, rng).abort_status, 599u);
  EXPECT_FALSE(r.planFaults(v1, {}, rng).any());
  for (const char* bad : {"abc", "-5", "700", "600", "199", "0", "", "503 "}) {
    EXPECT_FALSE(r.planFaults(v1, {{"x-envoy-fault-abort-request", bad}}, rng).any()) << bad;
  }
  EXPECT_FALSE(r.planFaults(v1, {{"x-envoy-fault-delay-request", "100"}}, rng).any());
}

TEST(TrafficPolicyTest, HeaderPercentageOnlyLowers) {
  auto full = faultRoute(
      "      - {delay: {from_header: true}}\n"
      "      - {abort: {from_header: true}}\n");
  ASSERT_NE(full, nullptr);
  const CompiledRoute& r = routeOf(full, "r");
  Headers half = {{"x-envoy-fault-delay-request", "10"},
                  {"x-envoy-fault-delay-request-percentage", "50"},
                  {"x-envoy-fault-abort-request", "503"},
                  {"x-envoy-fault-abort-request-percentage", "50"}};
  int delays = countFired(r, half, 20000, 201, true);
  EXPECT_NEAR(delays, 10000, 500);
  int aborts = countFired(r, half, 20000, 202, false);
  EXPECT_NEAR(aborts, 10000, 500);
  Headers zero = {{"x-envoy-fault-delay-request", "10"},
                  {"x-envoy-fault-delay-request-percentage", "0"},
                  {"x-envoy-fault-abort-request", "503"},
                  {"x-envoy-fault-abort-request-percentage", "0"}};
  EXPECT_EQ(countFired(r, zero, 5000, 203, true), 0);
  EXPECT_EQ(countFired(r, zero, 5000, 204, false), 0);
  // An invalid percentage is ignored: the configured one applies.
  Headers bad = {{"x-envoy-fault-delay-request", "10"},
                 {"x-envoy-fault-delay-request-percentage", "abc"},
                 {"x-envoy-fault-abort-request", "503"},
                 {"x-envoy-fault-abort-request-percentage", "101"}};
  EXPECT_EQ(countFired(r, bad, 5000, 205, true), 5000);
  EXPECT_EQ(countFired(r, bad, 5000, 206, false), 5000);

  auto low = faultRoute(
      "      - {delay: {from_header: true, percent: 20}}\n"
      "      - {abort: {from_header: true, percent: 20}}\n");
  ASSERT_NE(low, nullptr);
  const CompiledRoute& lr = routeOf(low, "r");
  Headers high = {{"x-envoy-fault-delay-request", "10"},
                  {"x-envoy-fault-delay-request-percentage", "80"},
                  {"x-envoy-fault-abort-request", "503"},
                  {"x-envoy-fault-abort-request-percentage", "100"}};
  delays = countFired(lr, high, 20000, 207, true);
  EXPECT_NEAR(delays, 4000, 400);
  aborts = countFired(lr, high, 20000, 208, false);
  EXPECT_NEAR(aborts, 4000, 400);
}

TEST(TrafficPolicyTest, FixedFaultsIgnoreEnvoyHeaders) {
  auto s = faultRoute("      - {delay: {seconds: 0.05}, abort: {status: 503}}\n");
  ASSERT_NE(s, nullptr);
  const CompiledRoute& r = routeOf(s, "r");
  std::mt19937_64 rng(20);
  Headers h = {{"x-envoy-fault-delay-request", "999"},
               {"x-envoy-fault-delay-request-percentage", "0"},
               {"x-envoy-fault-abort-request", "404"},
               {"x-envoy-fault-abort-request-percentage", "0"}};
  FaultPlan plan = r.planFaults(targetFor(r, "v1"), h, rng);
  EXPECT_EQ(plan.delay_ms, 50u);
  EXPECT_EQ(plan.abort_status, 503u);
}

}  // namespace
}  // namespace turnout::route
