#include "compat/a8_support.h"

#include <sys/socket.h>

#include <algorithm>
#include <cmath>

#include "config/address.h"
#include "config/identity.h"

namespace turnout::compat {

using nlohmann::json;

namespace {

const char* typeName(const json& value) { return value.type_name(); }

// Probabilities in [0, 1] (above 1 means always, as in the original) as a model percent,
// at the model's parts-per-million precision.
double percentOf(double probability) {
  double percent = std::clamp(probability, 0.0, 1.0) * 100.0;
  return std::round(percent * 10000.0) / 10000.0;
}

}  // namespace

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

void requireObject(const json& value, const std::string& field,
                   std::initializer_list<std::string_view> known) {
  if (!value.is_object()) {
    throw Invalid(field, std::string("must be an object, not ") + typeName(value));
  }
  for (const auto& [key, unused] : value.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw Invalid(field.empty() ? key : field + "." + key, "unknown field");
    }
  }
}

void requireObjectOrNull(const json& value, const std::string& field) {
  if (!value.is_object() && !value.is_null()) {
    throw Invalid(field, std::string("must be an object, not ") + typeName(value));
  }
}

void requireArray(const json& value, const std::string& field) {
  if (!value.is_array()) {
    throw Invalid(field, std::string("must be an array, not ") + typeName(value));
  }
}

void requireArrayOrNull(const json& value, const std::string& field) {
  if (!value.is_array() && !value.is_null()) {
    throw Invalid(field, std::string("must be an array, not ") + typeName(value));
  }
}

std::string readString(const json& value, const std::string& field) {
  if (!value.is_string()) {
    throw Invalid(field, std::string("must be a string, not ") + typeName(value));
  }
  return value.get<std::string>();
}

double readNumber(const json& value, const std::string& field) {
  if (!value.is_number()) {
    throw Invalid(field, std::string("must be a number, not ") + typeName(value));
  }
  double number = value.get<double>();
  if (!std::isfinite(number)) throw Invalid(field, "must be a finite number");
  return number;
}

int64_t readInteger(const json& value, const std::string& field) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 1e9) {
      return static_cast<int64_t>(number);
    }
  }
  throw Invalid(field, std::string("must be an integer, not ") + typeName(value));
}

uint16_t readPort(const json& value, const std::string& field) {
  int64_t port = readInteger(value, field);
  if (port <= 0 || port > 65535) throw Invalid(field, "must be a port between 1 and 65535");
  return static_cast<uint16_t>(port);
}

std::string endpointAddress(const std::string& host, uint16_t port, const std::string& field) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  std::string address = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  std::string why;
  if (!config::checkEndpointAddress(address, &why)) {
    throw Invalid(field + ".host", "must be an IP address or a DNS name (" + why + ")");
  }
  return address;
}

bool splitVersionedName(const std::string& name, std::string& service, std::string& version) {
  size_t cut = name.find(':');
  if (cut == std::string::npos) cut = name.rfind('_');
  if (cut == std::string::npos || cut == 0 || cut + 1 >= name.size()) return false;
  service = name.substr(0, cut);
  version = name.substr(cut + 1);
  return true;
}

void checkServiceName(const std::string& name, const std::string& field) {
  bool ok = !name.empty() && name.size() <= 200;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) throw Invalid(field, "service names are letters, digits, '.', '_' and '-'");
}

void checkServiceType(const json& value, const std::string& field) {
  std::string type = readString(value, field + ".service_type");
  if (type == "https") {
    throw Invalid(field + ".service_type", "https upstreams are not supported yet");
  }
  if (type != "http") throw Invalid(field + ".service_type", "must be http or https");
}

std::vector<LuaSelector> selectorsFromJson(const json& value, const std::string& field) {
  std::vector<LuaSelector> selectors;
  for (const auto& [version, condition] : value.items()) {
    const std::string at = field + "." + version;
    requireObject(condition, at, {"weight", "header", "user"});
    if (condition.size() != 1) throw Invalid(at, "needs exactly one of weight, header or user");
    LuaSelector selector;
    selector.version = version;
    if (const json* weight = member(condition, "weight")) {
      double number = readNumber(*weight, at + ".weight");
      if (number < 0 || number > 1) throw Invalid(at + ".weight", "must be between 0 and 1");
      selector.weight = number;
    }
    if (const json* header = member(condition, "header")) {
      selector.header = readString(*header, at + ".header");
    }
    if (const json* user = member(condition, "user"))
      selector.user = readString(*user, at + ".user");
    selectors.push_back(std::move(selector));
  }
  return selectors;
}

config::Route serviceRoute(const std::string& service) {
  config::Route route;
  route.id = service;
  route.owner = std::string(kA8Owner);
  route.match.path_separated_prefix = "/" + service;
  route.strip_prefix = true;
  return route;
}

config::Service finishService(config::Service service) {
  service.owner = std::string(kA8Owner);
  service.lb = "round_robin";
  return service;
}

config::Fault nativeFault(const A8FaultSpec& spec, const std::string& version,
                          const std::string& field) {
  config::Fault fault;
  fault.version = version;
  fault.match.source = spec.source;
  if (!spec.source.empty() && !config::checkIdentity(spec.source).empty()) {
    throw Invalid(field + ".source", "must be NAME, NAME_VERSION or NAME:VERSION");
  }
  if (!spec.header.empty()) fault.match.headers[spec.header] = spec.pattern;
  if (spec.delay_probability > 0 && spec.delay_seconds > 0) {
    if (spec.delay_seconds > 3600) throw Invalid(field + ".delay", "must be at most 3600 seconds");
    config::FaultDelay delay;
    double ms = spec.delay_seconds * 1000.0;
    delay.ms = ms < 1 ? 1 : static_cast<uint32_t>(std::lround(ms));
    delay.percent = percentOf(spec.delay_probability);
    fault.delay = delay;
  }
  if (spec.abort_probability > 0 && spec.has_return_code && spec.return_code != 0) {
    config::FaultAbort abort;
    if (spec.return_code == -1) {
      abort.drop = true;
    } else if (spec.return_code >= 200 && spec.return_code <= 599) {
      abort.status = static_cast<uint32_t>(spec.return_code);
    } else {
      throw Invalid(field + ".return_code", "must be -1 (drop), 0 (none) or a status 200-599");
    }
    abort.percent = percentOf(spec.abort_probability);
    fault.abort = abort;
  }
  if (!fault.delay && !fault.abort) {
    throw Invalid(field,
                  "Invalid fault entry. Atleast one of abort/delay fault details should be non "
                  "zero");
  }
  return fault;
}

}  // namespace turnout::compat
