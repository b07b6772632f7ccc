#include "http/message.h"

namespace turnout::http {

// Both clear() keep the headers' capacity: a connection reuses one head for all its requests,
// so after the first request parsing allocates nothing.
void RequestHead::clear() {
  method = {};
  target = {};
  path = {};
  query = {};
  authority = {};
  version_minor = 1;
  headers.clear();
  head_bytes = 0;
  framing = BodyFraming::kNone;
  content_length = 0;
  keep_alive = true;
  expect_continue = false;
  upgrade = false;
}

void ResponseHead::clear() {
  version_minor = 1;
  status = 0;
  reason = {};
  headers.clear();
  head_bytes = 0;
  framing = BodyFraming::kNone;
  content_length = 0;
  keep_alive = true;
}

namespace {

bool isOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    // Equal bytes are the common case; otherwise only a letter's case bit may differ.
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char diff = x ^ static_cast<unsigned char>(b[i]);
    if (diff == 0) continue;
    unsigned char lower = x | 0x20;
    if (diff != 0x20 || lower < 'a' || lower > 'z') return false;
  }
  return true;
}

bool listHasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view element = list.substr(0, comma);
    while (!element.empty() && isOws(element.front())) element.remove_prefix(1);
    while (!element.empty() && isOws(element.back())) element.remove_suffix(1);
    if (equalsIgnoreCase(element, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace turnout::http
