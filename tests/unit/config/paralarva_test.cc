// paralarva's config.yaml and the `fallback:` shorthand, read by parseDocument / loadFile.
#include <gtest/gtest.h>

#include <climits>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config/load.h"

namespace turnout::config {
namespace {

// paralarva's config.yaml, exactly (seed-behaviours §5.1).
constexpr const char* kConfigYaml = R"(proxy:
  listen:
    address: "127.0.0.1"
    port: 8080
  services:
    - name: my-service
      domain: my-service.my-company.com
      hosts:
        - address: "10.0.0.1"
          port: 9090
        - address: "10.0.0.2"
          port: 9090
)";

// paralarva's tests/test_config.yaml, exactly.
constexpr const char* kTestConfigYaml = R"(proxy:
  listen:
    address: "127.0.0.1"
    port: 8080
  services:
    - name: test-h1
      domain: h1
      hosts:
        - address: "127.0.0.1"
          port: 9200
    - name: test-h2
      domain: h2
      hosts:
        - address: "127.0.0.1"
          port: 9200
        - address: "127.0.0.2"
          port: 9200
    - name: test-h3
      domain: h3
      hosts:
        - address: "127.0.0.1"
          port: 9200
        - address: "127.0.0.2"
          port: 9200
        - address: "127.0.0.3"
          port: 9200
)";

// One paralarva service with its route, as the translation builds them.
void addService(Config& config, const std::string& name, const std::string& domain,
                const std::vector<std::string>& hosts) {
  Service service;
  service.name = name;
  service.lb = "round_robin";
  for (const std::string& host : hosts) service.endpoints.push_back(Endpoint{host, "", 1});
  Route route;
  route.id = name;
  route.match.host = domain;
  route.split.push_back(SplitTarget{name, "", 1, {}});
  config.services.push_back(service);
  config.routes.push_back(route);
}

Config parsed(const std::string& text, Format format = Format::kYaml) {
  Config config;
  std::vector<Error> errors = parseDocument(text, format, config);
  for (const Error& error : errors) ADD_FAILURE() << formatError("doc", error);
  return config;
}

// Errors as "line: field: message".
std::vector<std::string> errorsOf(const std::string& text, Format format = Format::kYaml) {
  Config config;
  std::vector<std::string> out;
  for (const Error& e : parseDocument(text, format, config)) {
    out.push_back(formatError("", e).substr(1));
  }
  return out;
}

// The seed's test_config.yaml with lines `first` to `last` (1-based) replaced by
// `replacement` (which may hold any number of lines, or none).
std::string editLines(int first, int last, const std::string& replacement) {
  std::string text = kTestConfigYaml;
  size_t start = 0;
  for (int i = 1; i < first; ++i) start = text.find('\n', start) + 1;
  size_t end = start;
  for (int i = first; i <= last; ++i) end = text.find('\n', end) + 1;
  return text.substr(0, start) + replacement + text.substr(end);
}

std::string editLine(int line, const std::string& replacement) {
  return editLines(line, line, replacement);
}

TEST(ParalarvaTest, SeedConfigYaml) {
  Config expected;
  expected.listeners.push_back(Listener{"paralarva", "127.0.0.1:8080", "http"});
  addService(expected, "my-service", "my-service.my-company.com",
             {"10.0.0.1:9090", "10.0.0.2:9090"});
  EXPECT_EQ(parsed(kConfigYaml), expected);
}

TEST(ParalarvaTest, SeedTestConfigYaml) {
  Config expected;
  expected.listeners.push_back(Listener{"paralarva", "127.0.0.1:8080", "http"});
  addService(expected, "test-h1", "h1", {"127.0.0.1:9200"});
  addService(expected, "test-h2", "h2", {"127.0.0.1:9200", "127.0.0.2:9200"});
  addService(expected, "test-h3", "h3", {"127.0.0.1:9200", "127.0.0.2:9200", "127.0.0.3:9200"});
  EXPECT_EQ(parsed(kTestConfigYaml), expected);
}

TEST(ParalarvaTest, JsonFormParsesToTheSameModel) {
  constexpr const char* kJson = R"({"proxy": {
      "listen": {"address": "127.0.0.1", "port": 8080},
      "services": [{"name": "my-service", "domain": "my-service.my-company.com",
                    "hosts": [{"address": "10.0.0.1", "port": 9090},
                              {"address": "10.0.0.2", "port": 9090}]}]}})";
  EXPECT_EQ(parsed(kJson, Format::kJson), parsed(kConfigYaml));
  EXPECT_EQ(parsed(kJson, Format::kYaml), parsed(kConfigYaml));  // YAML reads JSON too
}

TEST(ParalarvaTest, JsonErrorsHaveFieldsWithoutLines) {
  auto errors = errorsOf(R"({"proxy": {"listen": {"address": "127.0.0.1", "port": "8080"},
                                        "services": []}})",
                         Format::kJson);
  EXPECT_EQ(errors,
            (std::vector<std::string>{" proxy.listen.port: must be an integer between 1 and 65535",
                                      " proxy.services: must not be empty"}));
}

TEST(ParalarvaTest, Ipv6AddressesAreBracketed) {
  Config config = parsed(
      "proxy:\n"
      "  listen: {address: \"::1\", port: 8080}\n"
      "  services: [{name: s, domain: s.example, hosts: [{address: \"fd00::2\", port: 80}]}]\n");
  EXPECT_EQ(config.listeners.at(0).address, "[::1]:8080");
  EXPECT_EQ(config.services.at(0).endpoints.at(0).address, "[fd00::2]:80");
}

// paralarva picks from the list as written: a host listed twice gets twice the share.
TEST(ParalarvaTest, RepeatedHostBecomesAWeight) {
  Config config = parsed(
      "proxy:\n"
      "  listen: {address: 127.0.0.1, port: 8080}\n"
      "  services:\n"
      "    - name: s\n"
      "      domain: s\n"
      "      hosts:\n"
      "        - {address: 10.0.0.1, port: 80}\n"
      "        - {address: 10.0.0.2, port: 80}\n"
      "        - {address: 10.0.0.1, port: 80}\n");
  EXPECT_EQ(config.services.at(0).endpoints,
            (std::vector<Endpoint>{{"10.0.0.1:80", "", 2}, {"10.0.0.2:80", "", 1}}));
}

TEST(ParalarvaTest, ProxyNeedsListenAndServices) {
  EXPECT_EQ(errorsOf("proxy:\n"),
            (std::vector<std::string>{"1: proxy.listen: required", "1: proxy.services: required"}));
  EXPECT_EQ(errorsOf("proxy:\n"
                     "  listen: {address: \"127.0.0.1\", port: 8080}\n"
                     "  strategy: random\n"),
            (std::vector<std::string>{"1: proxy.services: required",
                                      "3: proxy.strategy: unknown field"}));
  EXPECT_EQ(errorsOf("proxy: [listen]\n"), std::vector<std::string>{"1: proxy: must be a mapping"});
}

TEST(ParalarvaTest, UnknownKeysAreErrors) {
  auto errors = errorsOf(editLine(7, "      domain: h1\n      weight: 2\n"));
  EXPECT_EQ(errors, std::vector<std::string>{"8: proxy.services[0].weight: unknown field"});
  errors = errorsOf(std::string(kTestConfigYaml) + "colour: blue\n");
  EXPECT_EQ(errors, std::vector<std::string>{"27: colour: unknown field"});
}

TEST(ParalarvaTest, ListenAddressAndPort) {
  EXPECT_EQ(errorsOf(editLine(3, "    address: localhost\n")),
            std::vector<std::string>{
                "3: proxy.listen.address: must be an IP address (host names are not accepted)"});
  EXPECT_EQ(errorsOf(editLine(3, "    address: \"256.0.0.1\"\n")),
            std::vector<std::string>{
                "3: proxy.listen.address: must be an IP address (host names are not accepted)"});
  EXPECT_EQ(
      errorsOf(editLine(4, "    port: \"8080\"\n")),
      std::vector<std::string>{"4: proxy.listen.port: must be an integer between 1 and 65535"});
  EXPECT_EQ(
      errorsOf(editLine(4, "    port: 65536\n")),
      std::vector<std::string>{"4: proxy.listen.port: must be an integer between 1 and 65535"});
  EXPECT_EQ(errorsOf(editLine(4, "")), std::vector<std::string>{"2: proxy.listen.port: required"});
  EXPECT_EQ(errorsOf(editLine(3, "")),
            std::vector<std::string>{"2: proxy.listen.address: required"});
}

TEST(ParalarvaTest, HostAddressAndPort) {
  EXPECT_EQ(errorsOf(editLine(9, "        - address: \"es0.local\"\n")),
            std::vector<std::string>{"9: proxy.services[0].hosts[0].address: must be an IP "
                                     "address (host names are not accepted)"});
  EXPECT_EQ(errorsOf(editLine(10, "          port: \"9200\"\n")),
            std::vector<std::string>{
                "10: proxy.services[0].hosts[0].port: must be an integer between 1 and 65535"});
  EXPECT_EQ(errorsOf(editLine(10, "          port: 0\n")),
            std::vector<std::string>{
                "10: proxy.services[0].hosts[0].port: must be an integer between 1 and 65535"});
  EXPECT_EQ(errorsOf(editLine(17, "")),
            std::vector<std::string>{"16: proxy.services[1].hosts[1].port: required"});
  EXPECT_EQ(errorsOf(editLines(16, 17, "        - port: 9200\n")),
            std::vector<std::string>{"16: proxy.services[1].hosts[1].address: required"});
}

TEST(ParalarvaTest, ServicesMustBeANonEmptyList) {
  std::string head = "proxy:\n  listen: {address: \"127.0.0.1\", port: 8080}\n";
  EXPECT_EQ(errorsOf(head + "  services: []\n"),
            std::vector<std::string>{"3: proxy.services: must not be empty"});
  EXPECT_EQ(errorsOf(head + "  services:\n"),
            std::vector<std::string>{"3: proxy.services: must not be empty"});
  EXPECT_EQ(errorsOf(head + "  services: {name: a}\n"),
            std::vector<std::string>{"3: proxy.services: must be a list"});
}

TEST(ParalarvaTest, ServiceFieldsAreRequired) {
  auto one_service = [](const std::string& service) {
    return "proxy:\n  listen: {address: 127.0.0.1, port: 8080}\n  services:\n    - " + service +
           "\n";
  };
  EXPECT_EQ(errorsOf(one_service("{domain: h1, hosts: [{address: 127.0.0.1, port: 80}]}")),
            std::vector<std::string>{"4: proxy.services[0].name: required"});
  EXPECT_EQ(errorsOf(one_service("{name: h1, hosts: [{address: 127.0.0.1, port: 80}]}")),
            std::vector<std::string>{"4: proxy.services[0].domain: required"});
  EXPECT_EQ(errorsOf(one_service("{}")),
            (std::vector<std::string>{"4: proxy.services[0].name: required",
                                      "4: proxy.services[0].domain: required",
                                      "4: proxy.services[0].hosts: required"}));
  EXPECT_EQ(errorsOf(one_service("h1")),
            std::vector<std::string>{"4: proxy.services[0]: must be a mapping"});
}

TEST(ParalarvaTest, HostsMustBeANonEmptyListOfMappings) {
  // test-h1's hosts (lines 8-10) replaced.
  auto with_hosts = [](const std::string& hosts) {
    std::string text = kTestConfigYaml;
    size_t start = text.find("      hosts:\n");
    size_t end = text.find("    - name: test-h2");
    return text.substr(0, start) + hosts + text.substr(end);
  };
  EXPECT_EQ(errorsOf(with_hosts("      hosts: []\n")),
            std::vector<std::string>{"8: proxy.services[0].hosts: must not be empty"});
  EXPECT_EQ(errorsOf(with_hosts("      hosts:\n")),
            std::vector<std::string>{"8: proxy.services[0].hosts: must not be empty"});
  EXPECT_EQ(errorsOf(with_hosts("      hosts: [0]\n")),
            std::vector<std::string>{"8: proxy.services[0].hosts[0]: must be a mapping"});
  EXPECT_EQ(errorsOf(with_hosts("")),
            std::vector<std::string>{"6: proxy.services[0].hosts: required"});
}

TEST(ParalarvaTest, NameAndDomainSyntax) {
  EXPECT_EQ(errorsOf(editLine(6, "    - name: \"test h1\"\n")),
            std::vector<std::string>{"6: proxy.services[0].name: must contain only letters, "
                                     "digits, '.', '_' and '-'"});
  EXPECT_EQ(errorsOf(editLine(6, "    - name: \"\"\n")),
            std::vector<std::string>{"6: proxy.services[0].name: must not be empty"});
  EXPECT_EQ(errorsOf(editLine(7, "      domain: \"\"\n")),
            std::vector<std::string>{"7: proxy.services[0].domain: must not be empty"});
  EXPECT_EQ(errorsOf(editLine(7, "      domain: \"h1:8080\"\n")),
            std::vector<std::string>{"7: proxy.services[0].domain: must not include a port"});
  for (const char* bad : {"\"*.example.com\"", "a..b", "\"bad host\"", "\"[::1]\""}) {
    EXPECT_EQ(errorsOf(editLine(7, std::string("      domain: ") + bad + "\n")),
              std::vector<std::string>{
                  "7: proxy.services[0].domain: must be a host name (\"api.example.com\")"})
        << bad;
  }
}

TEST(ParalarvaTest, DuplicateDomainAndName) {
  // The seed's own example of an invalid file: test-h2 on h1's domain, in another case.
  EXPECT_EQ(errorsOf(editLine(12, "      domain: H1\n")),
            std::vector<std::string>{"12: proxy.services[1].domain: duplicate domain 'H1'"});
  EXPECT_EQ(errorsOf(editLine(19, "      domain: h1.\n")),
            std::vector<std::string>{"19: proxy.services[2].domain: duplicate domain 'h1.'"});
  EXPECT_EQ(errorsOf(editLine(11, "    - name: test-h1\n")),
            std::vector<std::string>{"11: proxy.services[1].name: duplicate name 'test-h1'"});
}

TEST(ParalarvaTest, MixingWithNativeKeysIsAnError) {
  auto errors = errorsOf("routes: []\n" + std::string(kConfigYaml) + "services: []\n");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "1: routes: cannot be mixed with proxy (paralarva's format) in one document",
                "14: services: cannot be mixed with proxy (paralarva's format) in one document"}));
}

TEST(ParalarvaTest, LoadFileNamesFileLineAndField) {
  std::string path = ::testing::TempDir() + "/turnout_paralarva_config.yaml";
  {
    std::ofstream out(path);
    out << editLine(12, "      domain: h1\n");
  }
  Config config;
  auto errors = loadFile(path, config);
  std::remove(path.c_str());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(formatError("config.yaml", errors[0]),
            "config.yaml:12: proxy.services[1].domain: duplicate domain 'h1'");
}

// --- fallback -----------------------------------------------------------------------------

TEST(FallbackTest, NativeShorthand) {
  Config config = parsed(
      "services: [{name: api, endpoints: [{address: \"10.0.0.1:80\"}]}]\n"
      "routes: [{id: api, match: {host: api.example.com}, split: [{service: api}]}]\n"
      "fallback: \"10.0.0.9:8080\"\n");
  ASSERT_EQ(config.services.size(), 2u);
  ASSERT_EQ(config.routes.size(), 2u);
  Service service;
  service.name = "fallback";
  service.endpoints.push_back(Endpoint{"10.0.0.9:8080", "", 1});
  EXPECT_EQ(config.services[1], service);
  Route route;
  route.id = "fallback";
  route.priority = INT32_MIN;
  route.split.push_back(SplitTarget{"fallback", "", 1, {}});
  EXPECT_EQ(config.routes[1], route);
  EXPECT_TRUE(route.match == RouteMatch{});  // no match: every request
}

TEST(FallbackTest, AloneAndIpv6) {
  Config config = parsed("fallback: \"[::1]:8080\"\n");
  EXPECT_EQ(config.services.at(0).endpoints.at(0).address, "[::1]:8080");
  EXPECT_EQ(config.routes.at(0).priority, INT32_MIN);
  EXPECT_TRUE(parsed(R"({"fallback": "10.0.0.9:80"})", Format::kJson).routes.size() == 1);
}

TEST(FallbackTest, BesideParalarva) {
  Config config = parsed(std::string(kConfigYaml) + "fallback: \"10.0.0.9:80\"\n");
  ASSERT_EQ(config.routes.size(), 2u);
  EXPECT_EQ(config.routes[1].id, "fallback");
  EXPECT_EQ(config.services[1].endpoints.at(0).address, "10.0.0.9:80");
}

TEST(FallbackTest, Errors) {
  EXPECT_EQ(errorsOf("fallback: \"10.0.0.9\"\n"),
            std::vector<std::string>{"1: fallback: must end with :PORT"});
  EXPECT_EQ(
      errorsOf("fallback: \"backend.local:80\"\n"),
      std::vector<std::string>{"1: fallback: an IP address is needed here, not a DNS name"});
  EXPECT_EQ(errorsOf("fallback:\n"), std::vector<std::string>{"1: fallback: must not be empty"});
  EXPECT_EQ(errorsOf("fallback: [a]\n"), std::vector<std::string>{"1: fallback: must be a string"});
  EXPECT_EQ(errorsOf("services: [{name: fallback, endpoints: [{address: \"10.0.0.1:80\"}]}]\n"
                     "fallback: \"10.0.0.9:80\"\n"),
            std::vector<std::string>{"2: fallback: a service named 'fallback' already exists"});
  EXPECT_EQ(errorsOf("services: [{name: s, endpoints: [{address: \"10.0.0.1:80\"}]}]\n"
                     "routes: [{id: fallback, split: [{service: s}]}]\n"
                     "fallback: \"10.0.0.9:80\"\n"),
            std::vector<std::string>{"3: fallback: a route with id 'fallback' already exists"});
  EXPECT_EQ(errorsOf(editLine(6, "    - name: fallback\n") + "fallback: \"10.0.0.9:80\"\n"),
            std::vector<std::string>{"27: fallback: a service named 'fallback' already exists"});
}

}  // namespace
}  // namespace turnout::config
