#include "store/model_json.h"

#include <vector>

#include "config/load.h"

namespace turnout::store {
namespace {

bool report(const std::vector<config::Error>& errors, std::string& error) {
  if (errors.empty()) return true;
  error = config::formatError("stored object", errors.front());
  return false;
}

}  // namespace

std::string encode(const config::Listener& listener) { return config::toJson(listener); }
std::string encode(const config::Service& service) { return config::toJson(service); }
std::string encode(const config::Route& route) { return config::toJson(route); }

bool decode(std::string_view text, config::Listener& out, std::string& error) {
  return report(config::decodeStored(text, out), error);
}

bool decode(std::string_view text, config::Service& out, std::string& error) {
  return report(config::decodeStored(text, out), error);
}

bool decode(std::string_view text, config::Route& out, std::string& error) {
  return report(config::decodeStored(text, out), error);
}

}  // namespace turnout::store
