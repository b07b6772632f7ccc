// Helpers shared by the store tests: a temporary directory per test, model builders that set
// every field to a non-default value, and field-by-field model comparison.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "config/model.h"

namespace turnout::store::testing_util {

// mkdtemp under the test temp dir, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "turnout-store-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline config::Service makeService(int i, int endpoints = 2) {
  config::Service service;
  service.name = "svc-" + std::to_string(i);
  service.lb = i % 2 == 0 ? "least_request" : "random";
  for (int e = 0; e < endpoints; ++e) {
    service.endpoints.push_back({"10." + std::to_string(i / 250 % 250) + "." +
                                     std::to_string(i % 250) + "." + std::to_string(e + 1) + ":80",
                                 "v" + std::to_string(e + 1), static_cast<uint32_t>(e + 3)});
  }
  return service;
}

inline config::Route makeRoute(int i) {
  config::Route route;
  route.id = "route-" + std::to_string(i);
  route.priority = -i;
  route.match.host = "h" + std::to_string(i) + ".example.com";
  route.match.path = "";
  route.match.path_prefix = "/api/" + std::to_string(i) + "/";
  route.match.headers = {{"X-User", "^qa-"}, {"X-Env", "prod|stage"}};
  route.strip_prefix = true;
  route.split = {{"svc-" + std::to_string(i), "v1", 90}, {"svc-" + std::to_string(i), "v2", 10}};
  route.timeout_ms = 2500 + static_cast<uint32_t>(i);
  return route;
}

inline config::Listener makeListener(int i) {
  return {"listener-" + std::to_string(i), "127.0.0.1:" + std::to_string(8000 + i), "h2c"};
}

// Field-by-field equality: the model has no operator== and a codec-based comparison would
// hide a codec bug.
inline bool same(const config::Endpoint& a, const config::Endpoint& b) {
  return a.address == b.address && a.version == b.version && a.weight == b.weight;
}
inline bool same(const config::SplitTarget& a, const config::SplitTarget& b) {
  return a.service == b.service && a.version == b.version && a.weight == b.weight;
}
inline bool same(const config::Listener& a, const config::Listener& b) {
  return a.name == b.name && a.address == b.address && a.protocol == b.protocol;
}
template <typename T>
bool sameList(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}
inline bool same(const config::Service& a, const config::Service& b) {
  return a.name == b.name && a.lb == b.lb && sameList(a.endpoints, b.endpoints);
}
inline bool same(const config::Route& a, const config::Route& b) {
  return a.id == b.id && a.priority == b.priority && a.match.host == b.match.host &&
         a.match.path == b.match.path && a.match.path_prefix == b.match.path_prefix &&
         a.match.headers == b.match.headers && a.strip_prefix == b.strip_prefix &&
         sameList(a.split, b.split) && a.timeout_ms == b.timeout_ms;
}

// Reports the first differing object by position, so a failure says where.
inline ::testing::AssertionResult sameConfig(const config::Config& a, const config::Config& b) {
  if (!sameList(a.listeners, b.listeners))
    return ::testing::AssertionFailure() << "listeners differ";
  if (a.services.size() != b.services.size()) {
    return ::testing::AssertionFailure()
           << "service count " << a.services.size() << " vs " << b.services.size();
  }
  for (size_t i = 0; i < a.services.size(); ++i) {
    if (!same(a.services[i], b.services[i])) {
      return ::testing::AssertionFailure()
             << "services[" << i << "] differ: '" << a.services[i].name << "' vs '"
             << b.services[i].name << "'";
    }
  }
  if (a.routes.size() != b.routes.size()) {
    return ::testing::AssertionFailure()
           << "route count " << a.routes.size() << " vs " << b.routes.size();
  }
  for (size_t i = 0; i < a.routes.size(); ++i) {
    if (!same(a.routes[i], b.routes[i])) {
      return ::testing::AssertionFailure() << "routes[" << i << "] differ: '" << a.routes[i].id
                                           << "' vs '" << b.routes[i].id << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace turnout::store::testing_util
