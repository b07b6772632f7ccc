#include <gtest/gtest.h>

#include "config/address.h"
#include "config/load.h"

namespace turnout::config {
namespace {

Config validConfig() {
  Config config;
  config.listeners.push_back({"public", "0.0.0.0:8080", "http"});
  Service service;
  service.name = "svc";
  service.endpoints.push_back({"10.0.0.1:80", "v1", 1});
  service.endpoints.push_back({"[fe80::1]:80", "v2", 0});
  config.services.push_back(service);
  Route route;
  route.id = "r";
  route.match.host = "*.example.com";
  route.match.path_prefix = "/";
  route.strip_prefix = true;
  route.split.push_back({"svc", "v2", 3});
  config.routes.push_back(route);
  return config;
}

TEST(ValidateTest, ValidModel) { EXPECT_TRUE(validate(validConfig()).empty()); }

TEST(ValidateTest, SameChecksAsDocumentsWithoutLines) {
  Config config = validConfig();
  config.services[0].endpoints[0].weight = 20000;
  config.routes[0].split[0].version = "v9";
  config.routes[0].timeout_ms = 0;
  config.routes[0].match.headers["X-A"] = "[";
  auto errors = validate(config);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].field, "services[0].endpoints[0].weight");
  EXPECT_EQ(errors[1].field, "routes[0].match.headers.X-A");
  EXPECT_EQ(errors[2].field, "routes[0].split[0].version");
  EXPECT_EQ(errors[3].field, "routes[0].timeout_ms");
  for (const Error& error : errors) EXPECT_EQ(error.line, 0);
}

TEST(ValidateTest, HostForms) {
  for (const char* host : {"api.example.com", "API.Example.COM.", "*.example.com", "[::1]", ""}) {
    Config config = validConfig();
    config.routes[0].match.host = host;
    EXPECT_TRUE(validate(config).empty()) << host;
  }
  for (const char* host : {"a.com:80", "*", "*.", "a.*.com", "a b", "[::1", "/x"}) {
    Config config = validConfig();
    config.routes[0].match.host = host;
    auto errors = validate(config);
    ASSERT_EQ(errors.size(), 1u) << host;
    EXPECT_EQ(errors[0].field, "routes[0].match.host");
  }
}

}  // namespace
}  // namespace turnout::config

namespace turnout::config {
namespace {

TEST(WithDefaultPortTest, OnlyBareHostsGetThePort) {
  EXPECT_EQ(withDefaultPort("www.apple.com", 80), "www.apple.com:80");
  EXPECT_EQ(withDefaultPort("10.0.0.1", 80), "10.0.0.1:80");
  EXPECT_EQ(withDefaultPort("[::1]", 80), "[::1]:80");
  EXPECT_EQ(withDefaultPort("10.0.0.1:8080", 80), "10.0.0.1:8080");
  EXPECT_EQ(withDefaultPort("[::1]:8080", 80), "[::1]:8080");
  EXPECT_EQ(withDefaultPort("::1", 80), "::1");  // checkEndpointAddress refuses it
  EXPECT_EQ(withDefaultPort("", 80), "");
}

}  // namespace
}  // namespace turnout::config
