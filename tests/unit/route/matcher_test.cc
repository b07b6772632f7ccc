#include <gtest/gtest.h>

#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

// Compiles a document made of one service `svc` and the given routes.
std::shared_ptr<const Snapshot> compile(const std::string& routes_yaml) {
  std::string text =
      "services: [{name: svc, endpoints: [{address: \"10.0.0.1:80\"}]}]\nroutes:\n" + routes_yaml;
  Change change;
  auto parse_errors = config::parseDocument(text, change.all);
  EXPECT_TRUE(parse_errors.empty()) << config::formatError("doc", parse_errors.at(0));
  std::vector<config::Error> errors;
  auto snapshot = Compiler(1).apply(nullptr, change, errors);
  EXPECT_NE(snapshot, nullptr);
  return snapshot;
}

// The id of the route matching the request, or "-" for none.
std::string matchId(const Snapshot& snapshot, std::string_view host, std::string_view path,
                    const std::vector<http::HeaderField>& headers = {}) {
  const CompiledRoute* route = snapshot.match(MatchInput{host, path, &headers});
  return route != nullptr ? route->source.id : "-";
}

TEST(MatcherTest, ExactHostIsCaseInsensitiveAndIgnoresPortAndTrailingDot) {
  auto s = compile("  - {id: api, match: {host: Api.Example.com}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "api.example.com", "/"), "api");
  EXPECT_EQ(matchId(*s, "API.EXAMPLE.COM:8080", "/x"), "api");
  EXPECT_EQ(matchId(*s, "api.example.com.", "/"), "api");
  EXPECT_EQ(matchId(*s, "api.example.com.:80", "/"), "api");
  EXPECT_EQ(matchId(*s, "www.example.com", "/"), "-");
  EXPECT_EQ(matchId(*s, "", "/"), "-");
}

TEST(MatcherTest, Ipv6Host) {
  auto s = compile("  - {id: v6, match: {host: \"[::1]\"}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "[::1]:8080", "/"), "v6");
  EXPECT_EQ(matchId(*s, "[::1]", "/"), "v6");
  EXPECT_EQ(matchId(*s, "[::2]:8080", "/"), "-");
}

TEST(MatcherTest, WildcardHost) {
  auto s = compile(
      "  - {id: wide, match: {host: \"*.com\"}, split: [{service: svc}]}\n"
      "  - {id: narrow, match: {host: \"*.Example.com\"}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "a.example.com", "/"), "narrow");
  EXPECT_EQ(matchId(*s, "a.b.EXAMPLE.com:443", "/"), "narrow");
  EXPECT_EQ(matchId(*s, "example.com", "/"), "wide");  // not *.example.com itself
  EXPECT_EQ(matchId(*s, "other.org", "/"), "-");
  EXPECT_EQ(matchId(*s, "com", "/"), "-");
}

TEST(MatcherTest, HostSpecificityExactThenWildcardThenAny) {
  auto s = compile(
      "  - {id: any, split: [{service: svc}]}\n"
      "  - {id: wild, match: {host: \"*.example.com\"}, split: [{service: svc}]}\n"
      "  - {id: exact, match: {host: api.example.com}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "api.example.com", "/"), "exact");
  EXPECT_EQ(matchId(*s, "www.example.com", "/"), "wild");
  EXPECT_EQ(matchId(*s, "example.org", "/"), "any");
  EXPECT_EQ(matchId(*s, "", "/"), "any");
}

TEST(MatcherTest, PriorityBeatsSpecificity) {
  auto s = compile(
      "  - {id: exact, match: {host: api.example.com, path: /x}, split: [{service: svc}]}\n"
      "  - {id: any, priority: 1, split: [{service: svc}]}\n"
      "  - {id: low, priority: -1, match: {host: a.example.com}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "api.example.com", "/x"), "any");
  EXPECT_EQ(matchId(*s, "a.example.com", "/x"), "any");
}

TEST(MatcherTest, PathExactThenLongerPrefix) {
  auto s = compile(
      "  - {id: root, match: {path_prefix: /}, split: [{service: svc}]}\n"
      "  - {id: api, match: {path_prefix: /api}, split: [{service: svc}]}\n"
      "  - {id: users, match: {path_prefix: /api/users/}, split: [{service: svc}]}\n"
      "  - {id: exact, match: {path: /api/users/me}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "h", "/api/users/me"), "exact");
  EXPECT_EQ(matchId(*s, "h", "/api/users/me/x"), "users");
  EXPECT_EQ(matchId(*s, "h", "/api/users"), "api");
  EXPECT_EQ(matchId(*s, "h", "/apix"), "api");  // a plain string prefix, as Envoy's
  EXPECT_EQ(matchId(*s, "h", "/other"), "root");
}

TEST(MatcherTest, HeaderRegex) {
  auto s = compile(
      "  - {id: qa, match: {headers: {X-User: \"^qa-\"}}, split: [{service: svc}]}\n"
      "  - {id: two, match: {headers: {X-User: \"^qa-\", X-Env: stag}}, split: [{service: svc}]}\n"
      "  - {id: all, split: [{service: svc}]}\n");
  using H = std::vector<http::HeaderField>;
  EXPECT_EQ(matchId(*s, "h", "/", H{{"x-user", "qa-jo"}}), "qa");
  EXPECT_EQ(matchId(*s, "h", "/", H{{"X-USER", "qa-jo"}, {"x-env", "prestaging"}}), "two");
  EXPECT_EQ(matchId(*s, "h", "/", H{{"X-User", "jo-qa-"}}), "all");  // anchored pattern
  EXPECT_EQ(matchId(*s, "h", "/", H{{"X-User", "jo"}, {"X-User", "qa-2"}}), "qa");  // any value
  EXPECT_EQ(matchId(*s, "h", "/", H{{"X-Env", "stag"}}), "all");  // missing header
  EXPECT_EQ(matchId(*s, "h", "/"), "all");
  const CompiledRoute* route = s->match(MatchInput{"h", "/", nullptr});  // no header list
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->source.id, "all");
}

TEST(MatcherTest, NoRoute) {
  auto s = compile("  - {id: a, match: {path: /a}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "h", "/b"), "-");
}

TEST(MatcherTest, TenRoutesPickOrder) {
  // Listed least specific first; the expected rank order is the reverse, with ties (same
  // priority and specificity) in document order.
  auto s = compile(
      "  - {id: r0, split: [{service: svc}]}\n"
      "  - {id: r1, match: {path_prefix: /}, split: [{service: svc}]}\n"
      "  - {id: r2, match: {path_prefix: /a}, split: [{service: svc}]}\n"
      "  - {id: r3, match: {path_prefix: /a, headers: {X: y}}, split: [{service: svc}]}\n"
      "  - {id: r4, match: {path: /a}, split: [{service: svc}]}\n"
      "  - {id: r5, match: {host: \"*.com\"}, split: [{service: svc}]}\n"
      "  - {id: r6, match: {host: \"*.b.com\"}, split: [{service: svc}]}\n"
      "  - {id: r7, match: {host: a.b.com}, split: [{service: svc}]}\n"
      "  - {id: r8, match: {host: a.b.com}, split: [{service: svc}]}\n"
      "  - {id: r9, priority: 5, split: [{service: svc}]}\n");
  std::vector<std::string> order;
  for (const auto& route : s->routes()) order.push_back(route->source.id);
  EXPECT_EQ(order,
            (std::vector<std::string>{"r9", "r7", "r8", "r6", "r5", "r4", "r3", "r2", "r1", "r0"}));
  for (size_t i = 1; i < s->routes().size(); ++i) {
    EXPECT_LT(s->routes()[i - 1]->rank, s->routes()[i]->rank);
  }
  EXPECT_EQ(matchId(*s, "a.b.com", "/a"), "r9");
}

TEST(MatcherTest, TieBreaksInDocumentOrder) {
  auto s = compile(
      "  - {id: first, match: {path_prefix: /a}, split: [{service: svc}]}\n"
      "  - {id: second, match: {path_prefix: /b}, split: [{service: svc}]}\n"
      "  - {id: third, match: {path_prefix: /a}, split: [{service: svc}]}\n");
  EXPECT_EQ(matchId(*s, "h", "/a"), "first");
  EXPECT_EQ(matchId(*s, "h", "/b"), "second");
}

TEST(MatcherTest, UpstreamPath) {
  auto s = compile(
      "  - {id: a, match: {path_prefix: /api/}, rewrite: {strip_prefix: true}, split: [{service: "
      "svc}]}\n"
      "  - {id: b, match: {path_prefix: /v1}, rewrite: {strip_prefix: true}, split: [{service: "
      "svc}]}\n"
      "  - {id: c, match: {path_prefix: /keep}, split: [{service: svc}]}\n");
  const CompiledRoute* a = s->match(MatchInput{"h", "/api/users", nullptr});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->upstreamPath("/api/users"), "/users");
  EXPECT_EQ(a->upstreamPath("/api/"), "/");
  const CompiledRoute* b = s->match(MatchInput{"h", "/v1/x", nullptr});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->upstreamPath("/v1/x"), "/x");
  EXPECT_EQ(b->upstreamPath("/v1"), "/");
  EXPECT_EQ(b->upstreamPath("/v1x"), "/x");
  const CompiledRoute* c = s->match(MatchInput{"h", "/keep/me", nullptr});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->upstreamPath("/keep/me"), "/keep/me");
}

TEST(MatcherTest, PickTargetFollowsWeights) {
  auto s = compile(
      "  - id: r\n"
      "    split: [{service: svc, weight: 1}, {service: svc, weight: 0}, {service: svc, weight: "
      "3}]\n");
  const CompiledRoute& route = *s->routes().at(0);
  std::mt19937_64 rng(7);
  int counts[3] = {0, 0, 0};
  constexpr int kPicks = 100000;
  for (int i = 0; i < kPicks; ++i) {
    const CompiledTarget* target = route.pickTarget(rng);
    ASSERT_NE(target, nullptr);
    ++counts[target - route.targets.data()];
  }
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / double(kPicks), 0.25, 0.01);
  EXPECT_NEAR(counts[2] / double(kPicks), 0.75, 0.01);
}

}  // namespace
}  // namespace turnout::route
