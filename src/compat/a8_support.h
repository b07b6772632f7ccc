// Helpers shared by the two /a8-admin payload shapes: strict reads of nlohmann::json values
// with field paths, and the native objects both shapes produce. Private to the compat module.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "compat/amalgam8.h"
#include "compat/lua_table.h"
#include "config/model.h"

namespace turnout::compat {

// A payload problem: where ("services.helloworld.default") and what.
class Invalid {
 public:
  Invalid(std::string field, std::string message)
      : field_(std::move(field)), message_(std::move(message)) {}
  std::string describe() const { return field_.empty() ? message_ : field_ + ": " + message_; }

 private:
  std::string field_;
  std::string message_;
};

// Split weights are integers: a probability p is the weight p * kWeightScale.
inline constexpr uint32_t kWeightScale = 10000;

const nlohmann::json* member(const nlohmann::json& object, std::string_view key);
// An object whose keys are all in `known` (anything else is "unknown field").
void requireObject(const nlohmann::json& value, const std::string& field,
                   std::initializer_list<std::string_view> known);
void requireObjectOrNull(const nlohmann::json& value, const std::string& field);
void requireArray(const nlohmann::json& value, const std::string& field);
void requireArrayOrNull(const nlohmann::json& value, const std::string& field);
std::string readString(const nlohmann::json& value, const std::string& field);
double readNumber(const nlohmann::json& value, const std::string& field);
int64_t readInteger(const nlohmann::json& value, const std::string& field);
uint16_t readPort(const nlohmann::json& value, const std::string& field);

// "127.0.0.1" + 9091 -> "127.0.0.1:9091" ("[::1]:80" for IPv6); a DNS name is resolved at run
// time and becomes the upstream Host, as in the original.
std::string endpointAddress(const std::string& host, uint16_t port, const std::string& field);
// "helloworld_v1" or "helloworld:v1" -> helloworld, v1.
bool splitVersionedName(const std::string& name, std::string& service, std::string& version);
void checkServiceName(const std::string& name, const std::string& field);
// service_type: "http" (the default); "https" needs TLS upstreams, which turnout lacks yet.
void checkServiceType(const nlohmann::json& value, const std::string& field);
// selectors given as a JSON object: {"v2":{"weight":0.5},"v3":{"header":"Foo:bar"}}.
std::vector<LuaSelector> selectorsFromJson(const nlohmann::json& value, const std::string& field);

// The route every a8 service gets: /<service> and below, the prefix stripped, owned by a8.
config::Route serviceRoute(const std::string& service);
// Marks a translated service as a8's and balances it round robin.
config::Service finishService(config::Service service);

// A fault in the original's terms; both shapes reduce to it.
struct A8FaultSpec {
  std::string source;  // the caller it applies to ("" = any)
  std::string header;  // trigger header ("" = every request)
  std::string pattern;
  double delay_seconds = 0;
  double delay_probability = 0;
  double abort_probability = 0;
  bool has_return_code = false;
  int64_t return_code = 0;  // -1 drops the connection, 0 means no abort
};
config::Fault nativeFault(const A8FaultSpec& spec, const std::string& version,
                          const std::string& field);

// The later {"instances","rules"} shape (compat/a8_rules.cc).
A8Objects translateRules(const nlohmann::json& doc, const config::Identity& identity);

}  // namespace turnout::compat
