#include "config/decode_state.h"

#include <algorithm>

namespace turnout::config {
namespace {

// "routes[0].split[1].weight" -> "routes[0].split[1]" -> "routes[0].split" -> "routes[0]" ...
std::string_view parentField(std::string_view field) {
  size_t cut = field.find_last_of(".[");
  return cut == std::string_view::npos ? std::string_view() : field.substr(0, cut);
}

}  // namespace

void DecodeState::fail(const std::string& field, int line, std::string message) {
  errors_.push_back(Error{field, line, std::move(message)});
  failed_.insert(field);
}

int DecodeState::exactLine(const std::string& field) const {
  auto it = lines_.find(field);
  return it == lines_.end() ? 0 : it->second;
}

int DecodeState::lineOf(std::string_view field) const {
  if (lines_.empty()) return 0;  // JSON: no lines to look up, skip building keys
  for (; !field.empty(); field = parentField(field)) {
    auto it = lines_.find(std::string(field));
    if (it != lines_.end()) return it->second;
  }
  return 0;
}

bool DecodeState::alreadyReported(std::string_view field) const {
  if (failed_.empty()) return false;
  for (; !field.empty(); field = parentField(field)) {
    if (failed_.contains(std::string(field))) return true;
  }
  return false;
}

std::vector<Error> DecodeState::finish(std::vector<Error> semantic) && {
  std::vector<Error> out = std::move(errors_);
  for (Error& error : semantic) {
    if (alreadyReported(error.field)) continue;
    error.line = lineOf(error.field);
    out.push_back(std::move(error));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Error& a, const Error& b) { return a.line < b.line; });
  return out;
}

}  // namespace turnout::config
