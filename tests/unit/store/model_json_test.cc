// The store's private JSON codec: every field survives a round trip, missing fields take the
// model's defaults, and unreadable bodies are errors rather than exceptions.
#include <gtest/gtest.h>

#include "store/model_json.h"
#include "store_test_util.h"

namespace turnout::store {
namespace {

using testing_util::makeListener;
using testing_util::makeRoute;
using testing_util::makeService;
using testing_util::same;

TEST(StoreModelJsonTest, RouteRoundTripsEveryField) {
  config::Route route = makeRoute(7);
  route.match.path = "/exact";
  config::Route back;
  std::string error;
  ASSERT_TRUE(decode(encode(route), back, error)) << error;
  EXPECT_TRUE(same(route, back));
}

TEST(StoreModelJsonTest, ServiceAndListenerRoundTrip) {
  config::Service service = makeService(3, 4);
  config::Service service_back;
  config::Listener listener = makeListener(2);
  config::Listener listener_back;
  std::string error;
  ASSERT_TRUE(decode(encode(service), service_back, error)) << error;
  ASSERT_TRUE(decode(encode(listener), listener_back, error)) << error;
  EXPECT_TRUE(same(service, service_back));
  EXPECT_TRUE(same(listener, listener_back));
}

TEST(StoreModelJsonTest, DefaultModelsRoundTrip) {
  config::Route route;
  route.id = "r";
  config::Service service;
  service.name = "s";
  config::Route route_back;
  config::Service service_back;
  std::string error;
  ASSERT_TRUE(decode(encode(route), route_back, error)) << error;
  ASSERT_TRUE(decode(encode(service), service_back, error)) << error;
  EXPECT_TRUE(same(route, route_back));
  EXPECT_TRUE(same(service, service_back));
}

TEST(StoreModelJsonTest, EscapesAndUnicodeRoundTrip) {
  config::Route route = makeRoute(1);
  route.match.headers = {{"X-\"Quoted\"", "^a\\d+\n\t$"},
                         {"X-Unicode", "caf\xc3\xa9 \xe2\x9c\x93"}};
  route.match.path_prefix = "/\x01/";
  config::Route back;
  std::string error;
  ASSERT_TRUE(decode(encode(route), back, error)) << error;
  EXPECT_TRUE(same(route, back));
}

TEST(StoreModelJsonTest, MissingFieldsTakeModelDefaults) {
  config::Route route;
  config::Service service;
  std::string error;
  ASSERT_TRUE(decode(R"({"id":"r1"})", route, error)) << error;
  ASSERT_TRUE(decode(R"({"name":"s1","endpoints":[{"address":"1.2.3.4:80"}]})", service, error))
      << error;
  EXPECT_EQ(route.id, "r1");
  EXPECT_EQ(route.timeout_ms, config::Route{}.timeout_ms);
  EXPECT_FALSE(route.strip_prefix);
  EXPECT_EQ(service.lb, config::Service{}.lb);
  ASSERT_EQ(service.endpoints.size(), 1u);
  EXPECT_EQ(service.endpoints[0].weight, 1u);
  EXPECT_EQ(service.endpoints[0].version, "");
}

TEST(StoreModelJsonTest, UnreadableBodiesAreErrorsNotExceptions) {
  config::Route route;
  std::string error;
  EXPECT_FALSE(decode("{not json", route, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode("[1,2]", route, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode(R"({"id": 5})", route, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode(R"({"id":"r","split":[{"weight":"heavy"}]})", route, error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace turnout::store
