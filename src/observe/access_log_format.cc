#include "observe/access_log_format.h"

#include <array>
#include <charconv>

namespace turnout::observe::access_log_detail {
namespace {

// Bytes copied as they are: printable ASCII except the two JSON escapes.
constexpr std::array<bool, 256> kPlainBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

struct Utf8Sequence {
  size_t length;  // bytes to consume (>= 1)
  bool valid;     // false: an ill-formed sequence's maximal subpart, replaced by U+FFFD
};

// The well-formed sequences of Unicode table 3-7: no overlong forms, no surrogates, nothing
// above U+10FFFF. `p` points at a byte >= 0x80.
Utf8Sequence utf8SequenceAt(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = *p;
  size_t continuations;
  unsigned char low = 0x80, high = 0xBF;  // the range allowed for the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    if (lead == 0xE0) low = 0xA0;   // overlong below U+0800
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    if (lead == 0xF0) low = 0x90;   // overlong below U+10000
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};  // a stray continuation byte, an overlong lead (C0, C1) or F5..FF
  }
  for (size_t i = 1; i <= continuations; ++i) {
    if (p + i == end || p[i] < low || p[i] > high) return {i, false};
    low = 0x80;
    high = 0xBF;
  }
  return {continuations + 1, true};
}

void appendEscapedAscii(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (c == '"' || c == '\\') {
    const char escaped[2] = {'\\', static_cast<char>(c)};
    out.append(escaped, 2);
    return;
  }
  const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(escaped, 6);
}

template <typename Integer>
void appendInteger(std::string& out, Integer value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Microseconds as milliseconds with three decimals: 12345 -> 12.345.
void appendMillis(std::string& out, uint64_t micros) {
  appendInteger(out, micros / 1000);
  const unsigned fraction = static_cast<unsigned>(micros % 1000);
  const char decimals[4] = {'.', static_cast<char>('0' + fraction / 100),
                            static_cast<char>('0' + fraction / 10 % 10),
                            static_cast<char>('0' + fraction % 10)};
  out.append(decimals, 4);
}

// -1 means "never sent upstream": null. Any other negative is as meaningless, so null too.
void appendUpstreamMillis(std::string& out, int64_t micros) {
  if (micros < 0) {
    out.append("null");
  } else {
    appendMillis(out, static_cast<uint64_t>(micros));
  }
}

void appendJsonString(std::string& out, std::string_view value) {
  out += '"';
  appendJsonStringBody(out, value);
  out += '"';
}

// "service:version", "service" without a version, "" without a service.
void appendDestination(std::string& out, std::string_view service, std::string_view version) {
  out += '"';
  if (!service.empty()) {
    appendJsonStringBody(out, service);
    if (!version.empty()) {
      out += ':';
      appendJsonStringBody(out, version);
    }
  }
  out += '"';
}

void appendValue(std::string& out, Field field, const AccessRecord& r) {
  switch (field) {
    case Field::kTimestampMs:
      return appendInteger(out, r.timestamp_ms);
    case Field::kRequestId:
      return appendJsonString(out, r.request_id);
    case Field::kClient:
      return appendJsonString(out, r.client);
    case Field::kMethod:
      return appendJsonString(out, r.method);
    case Field::kPath:
      return appendJsonString(out, r.path);
    case Field::kHost:
      return appendJsonString(out, r.host);
    case Field::kStatus:
      return appendInteger(out, r.status);
    case Field::kBytesIn:
      return appendInteger(out, r.bytes_in);
    case Field::kBytesOut:
      return appendInteger(out, r.bytes_out);
    case Field::kDurationMs:
      return appendMillis(out, r.duration_us);
    case Field::kUpstreamDurationMs:
      return appendUpstreamMillis(out, r.upstream_us);
    case Field::kRoute:
      return appendJsonString(out, r.route);
    case Field::kSrc:
      return appendJsonString(out, r.src);
    case Field::kDst:
      return appendDestination(out, r.service, r.version);
    case Field::kUpstream:
      return appendJsonString(out, r.upstream);
    case Field::kFault:
      return appendJsonString(out, r.fault);
    case Field::kGremlinHeaderName:
      return appendJsonString(out, r.gremlin_header_name);
    case Field::kGremlinHeaderVal:
      return appendJsonString(out, r.gremlin_header_val);
    case Field::kRetries:
      return appendInteger(out, r.retries);
  }
}

std::string knownFieldList() {
  std::string list;
  for (std::string_view name : kAccessLogFields) {
    if (!list.empty()) list += ", ";
    list.append(name);
  }
  return list;
}

}  // namespace

bool parseFields(const std::vector<std::string>& names, std::vector<Field>& fields,
                 std::string& error) {
  fields.clear();
  if (names.empty()) {
    for (size_t i = 0; i < kAccessLogFields.size(); ++i) fields.push_back(static_cast<Field>(i));
    return true;
  }
  std::vector<bool> seen(kAccessLogFields.size(), false);
  for (const std::string& name : names) {
    size_t i = 0;
    while (i < kAccessLogFields.size() && kAccessLogFields[i] != name) ++i;
    if (i == kAccessLogFields.size()) {
      error = "unknown access log field \"" + name + "\"; known fields: " + knownFieldList();
      return false;
    }
    if (seen[i]) {
      error = "access log field \"" + name + "\" is listed twice";
      return false;
    }
    seen[i] = true;
    fields.push_back(static_cast<Field>(i));
  }
  return true;
}

void appendJsonStringBody(std::string& out, std::string_view value) {
  auto p = reinterpret_cast<const unsigned char*>(value.data());
  const auto end = p + value.size();
  while (p < end) {
    const auto plain_start = p;
    while (p < end && kPlainBytes[*p]) ++p;
    out.append(reinterpret_cast<const char*>(plain_start), p - plain_start);
    if (p == end) break;
    if (*p < 0x80) {
      appendEscapedAscii(out, *p++);
      continue;
    }
    const Utf8Sequence sequence = utf8SequenceAt(p, end);
    if (sequence.valid) {
      out.append(reinterpret_cast<const char*>(p), sequence.length);
    } else {
      out.append(kReplacementCharacter);
    }
    p += sequence.length;
  }
}

LineFormatter::LineFormatter(const std::vector<Field>& fields) {
  for (Field field : fields) {
    std::string prefix = keys_.empty() ? "{\"" : ",\"";
    prefix.append(kAccessLogFields[static_cast<size_t>(field)]).append("\":");
    keys_.push_back({field, std::move(prefix)});
  }
}

void LineFormatter::format(const AccessRecord& record, std::string& line) const {
  line.clear();
  for (const Key& key : keys_) {
    line.append(key.prefix);
    appendValue(line, key.field, record);
  }
  line.append(keys_.empty() ? "{}\n" : "}\n");
}

}  // namespace turnout::observe::access_log_detail
