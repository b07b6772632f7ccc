// Strict HTTP/1.1 head parser (RFC 9112, RFC 9110). See h1_parser.h for the contract.
//
// The parser is a single forward pass over the bytes that have arrived. Each step returns
// kOk (consumed its part), kMore (ran out of input: the caller re-parses from the start when
// more arrives, which is linear and cheap since heads are small) or kFail (error filled in).
// Nothing is copied: every string_view points into the input.
#include "http/h1_parser.h"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace turnout::http {
namespace {

// ---------------------------------------------------------------------------------------------
// Character classes

enum : uint8_t {
  kTchar = 1,        // RFC 9110 token character
  kTargetChar = 2,   // visible ASCII, 0x21-0x7E
  kFieldChar = 4,    // field-value byte: HTAB, SP, VCHAR, obs-text
  kRegNameChar = 8,  // RFC 3986 unreserved / sub-delims (reg-name, IPv4), '%' checked apart
};

constexpr std::array<uint8_t, 256> makeCharTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    uint8_t bits = 0;
    if (alnum ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= kTchar;
    }
    if (c >= 0x21 && c <= 0x7E) bits |= kTargetChar;
    if (c == '\t' || (c >= 0x20 && c != 0x7F)) bits |= kFieldChar;
    if (alnum ||
        std::string_view("-._~!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= kRegNameChar;
    }
    t[c] = bits;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kCharClass = makeCharTable();

inline bool is(char c, uint8_t cls) { return kCharClass[static_cast<unsigned char>(c)] & cls; }
inline bool isOws(char c) { return c == ' ' || c == '\t'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Marks (0x80) the control bytes (< 0x20, HTAB included) and DEL of `w`. Bytes >= 0x80 never
// match, and the lowest mark is always exact (a borrow only propagates upward), which is all
// the scan below relies on.
inline uint64_t controlByteMarks(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  uint64_t x = w ^ (kOnes * 0x7F);
  uint64_t is_del = (x - kOnes) & ~x & kHigh;
  return below_space | is_del;
}

// Returns the first byte in [p, end) that may not appear in a field value. Values (cookies,
// user agents) are the bulk of a head, so they are checked 8 bytes at a time and the scan
// jumps straight to the first control byte of a word (usually the CR ending the line).
const char* scanFieldValue(const char* p, const char* end) {
  static_assert(std::endian::native == std::endian::little, "word scan assumes little-endian");
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t marks = controlByteMarks(w);
    if (marks == 0) {
      p += 8;
      continue;
    }
    p += std::countr_zero(marks) / 8;
    if (*p != '\t') return p;
    ++p;
  }
  while (p != end && is(*p, kFieldChar)) ++p;
  return p;
}

// Returns the first non-tchar byte in [p, end). Unrolled: one end check per four bytes.
const char* scanToken(const char* p, const char* end) {
  while (end - p >= 4) {
    if (!is(p[0], kTchar)) return p;
    if (!is(p[1], kTchar)) return p + 1;
    if (!is(p[2], kTchar)) return p + 2;
    if (!is(p[3], kTchar)) return p + 3;
    p += 4;
  }
  while (p != end && is(*p, kTchar)) ++p;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Cursor and line-level steps

enum class Step : uint8_t { kOk, kMore, kFail };

#define TURNOUT_TRY(expr)                 \
  do {                                    \
    Step step_ = (expr);                  \
    if (step_ != Step::kOk) return step_; \
  } while (0)

struct Cursor {
  const char* pos;
  const char* end;
  ParseError& error;

  bool atEnd() const { return pos == end; }
  Step fail(int status, const char* reason) {
    error.status = status;
    error.reason = reason;
    return Step::kFail;
  }
};

Step expectCrlf(Cursor& c) {
  if (c.atEnd()) return Step::kMore;
  if (*c.pos != '\r') return c.fail(400, *c.pos == '\n' ? "bare LF line ending" : "expected CRLF");
  if (c.pos + 1 == c.end) return Step::kMore;
  if (c.pos[1] != '\n') return c.fail(400, "bare CR");
  c.pos += 2;
  return Step::kOk;
}

// "HTTP/" DIGIT "." DIGIT. A well-formed version other than 1.0 or 1.1 fails with
// `unsupported_status` (505 for requests), anything else with 400.
Step parseVersion(Cursor& c, int unsupported_status, int* minor) {
  static constexpr char kPattern[] = "HTTP/d.d";
  constexpr size_t kLen = sizeof(kPattern) - 1;
  size_t avail = static_cast<size_t>(c.end - c.pos);
  for (size_t i = 0; i < kLen && i < avail; ++i) {
    bool ok = kPattern[i] == 'd' ? isDigit(c.pos[i]) : c.pos[i] == kPattern[i];
    if (!ok) return c.fail(400, "invalid HTTP version");
  }
  if (avail < kLen) return Step::kMore;
  if (c.pos[5] != '1' || c.pos[7] > '1') {
    return c.fail(unsupported_status, "HTTP version not supported");
  }
  *minor = c.pos[7] - '0';
  c.pos += kLen;
  return Step::kOk;
}

// A request may be preceded by a few empty lines (RFC 9112 2.2: some clients send a CRLF
// after a POST body). More than a few is not a client bug any more.
constexpr int kMaxLeadingEmptyLines = 4;

Step skipLeadingEmptyLines(Cursor& c) {
  for (int skipped = 0;; ++skipped) {
    if (c.atEnd()) return Step::kMore;
    if (*c.pos != '\r' && *c.pos != '\n') return Step::kOk;
    if (skipped == kMaxLeadingEmptyLines) {
      return c.fail(400, "too many empty lines before the request line");
    }
    TURNOUT_TRY(expectCrlf(c));
  }
}

// Reports 414 as soon as the target seen so far is too long, even before its end arrived.
Step scanTarget(Cursor& c, size_t max_target, std::string_view* target) {
  const char* start = c.pos;
  size_t avail = static_cast<size_t>(c.end - start);
  const char* limit = start + (avail > max_target ? max_target + 1 : avail);
  while (c.pos != limit && is(*c.pos, kTargetChar)) ++c.pos;
  if (static_cast<size_t>(c.pos - start) > max_target) {
    return c.fail(414, "request target too long");
  }
  if (c.atEnd()) return Step::kMore;
  if (*c.pos != ' ') return c.fail(400, "invalid character in request target");
  if (c.pos == start) return c.fail(400, "empty request target");
  *target = std::string_view(start, static_cast<size_t>(c.pos - start));
  ++c.pos;
  return Step::kOk;
}

Step parseRequestLine(Cursor& c, const Limits& limits, RequestHead& out) {
  const char* method = c.pos;
  c.pos = scanToken(c.pos, c.end);
  if (c.atEnd()) return Step::kMore;
  if (*c.pos != ' ' || c.pos == method) return c.fail(400, "invalid method");
  out.method = std::string_view(method, static_cast<size_t>(c.pos - method));
  ++c.pos;
  TURNOUT_TRY(scanTarget(c, limits.max_target_bytes, &out.target));
  TURNOUT_TRY(parseVersion(c, 505, &out.version_minor));
  return expectCrlf(c);
}

const char* fieldNameError(char stop, bool at_line_start) {
  if (stop == '\n') return "bare LF line ending";
  if (isOws(stop)) {
    return at_line_start ? "obsolete line folding" : "whitespace between header name and colon";
  }
  if (stop == '\r') return "header line without colon";
  return "invalid character in header name";
}

const char* fieldValueError(char stop) {
  switch (stop) {
    case '\n':
      return "LF in header value";
    case '\0':
      return "NUL in header value";
    default:
      return "invalid character in header value";
  }
}

// name ":" OWS value OWS CRLF, with `c` at the start of a line that is not the empty line.
Step parseFieldLine(Cursor& c, HeaderField& field) {
  const char* name = c.pos;
  c.pos = scanToken(c.pos, c.end);
  if (c.atEnd()) return Step::kMore;
  if (*c.pos != ':') return c.fail(400, fieldNameError(*c.pos, c.pos == name));
  if (c.pos == name) return c.fail(400, "empty header name");
  field.name = std::string_view(name, static_cast<size_t>(c.pos - name));
  ++c.pos;

  while (!c.atEnd() && isOws(*c.pos)) ++c.pos;
  const char* value = c.pos;
  c.pos = scanFieldValue(c.pos, c.end);
  if (c.atEnd()) return Step::kMore;
  const char* value_end = c.pos;
  if (*c.pos != '\r') return c.fail(400, fieldValueError(*c.pos));
  if (c.pos + 1 == c.end) return Step::kMore;
  if (c.pos[1] != '\n') return c.fail(400, "CR in header value");
  c.pos += 2;
  while (value_end != value && isOws(value_end[-1])) --value_end;
  field.value = std::string_view(value, static_cast<size_t>(value_end - value));
  return Step::kOk;
}

// Header lines up to and including the empty line that ends the head.
Step parseFields(Cursor& c, const Limits& limits, std::vector<HeaderField>& headers) {
  for (;;) {
    if (c.atEnd()) return Step::kMore;
    if (*c.pos == '\r') return expectCrlf(c);
    if (headers.size() >= limits.max_headers) return c.fail(431, "too many header fields");
    HeaderField field;
    TURNOUT_TRY(parseFieldLine(c, field));
    headers.push_back(field);
  }
}

// ---------------------------------------------------------------------------------------------
// Header semantics shared by requests and responses

// equalsIgnoreCase for a literal made of lowercase letters and '-', inlined for the hot path.
// `s` comes from the parser, so it holds no control byte (the only other bytes that OR 0x20
// could turn into a letter or '-').
inline bool equalsLowercase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((s[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

enum class KnownField : uint8_t {
  kOther,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kExpect,
  kUpgrade
};

// Dispatch on the length first: most fields are none of these and cost one switch.
KnownField classifyName(std::string_view name) {
  switch (name.size()) {
    case 4:
      return equalsLowercase(name, "host") ? KnownField::kHost : KnownField::kOther;
    case 6:
      return equalsLowercase(name, "expect") ? KnownField::kExpect : KnownField::kOther;
    case 7:
      return equalsLowercase(name, "upgrade") ? KnownField::kUpgrade : KnownField::kOther;
    case 10:
      return equalsLowercase(name, "connection") ? KnownField::kConnection : KnownField::kOther;
    case 14:
      return equalsLowercase(name, "content-length") ? KnownField::kContentLength
                                                     : KnownField::kOther;
    case 17:
      return equalsLowercase(name, "transfer-encoding") ? KnownField::kTransferEncoding
                                                        : KnownField::kOther;
    default:
      return KnownField::kOther;
  }
}

struct FieldSummary {
  std::string_view host, content_length, transfer_encoding, expect;
  int host_count = 0;
  int content_length_count = 0;
  int transfer_encoding_count = 0;
  bool has_upgrade = false;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
};

// One pass over a Connection list for the three options that matter here.
void addConnectionOptions(std::string_view list, FieldSummary& s) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view option = list.substr(0, comma);
    while (!option.empty() && isOws(option.front())) option.remove_prefix(1);
    while (!option.empty() && isOws(option.back())) option.remove_suffix(1);
    switch (option.size()) {
      case 5:
        s.conn_close |= equalsLowercase(option, "close");
        break;
      case 7:
        s.conn_upgrade |= equalsLowercase(option, "upgrade");
        break;
      case 10:
        s.conn_keep_alive |= equalsLowercase(option, "keep-alive");
        break;
      default:
        break;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

FieldSummary summarize(const std::vector<HeaderField>& headers) {
  FieldSummary s;
  for (const HeaderField& f : headers) {
    switch (classifyName(f.name)) {
      case KnownField::kHost:
        s.host = f.value;
        ++s.host_count;
        break;
      case KnownField::kContentLength:
        s.content_length = f.value;
        ++s.content_length_count;
        break;
      case KnownField::kTransferEncoding:
        s.transfer_encoding = f.value;
        ++s.transfer_encoding_count;
        break;
      case KnownField::kConnection:
        addConnectionOptions(f.value, s);
        break;
      case KnownField::kExpect:
        s.expect = f.value;
        break;
      case KnownField::kUpgrade:
        s.has_upgrade = true;
        break;
      case KnownField::kOther:
        break;
    }
  }
  return s;
}

// 1*DIGIT, no sign, no list, at most INT64_MAX so it also fits an off_t.
bool parseContentLength(std::string_view v, uint64_t* out) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (v.empty()) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (!isDigit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (kMax - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

// The one framing rule for Transfer-Encoding and Content-Length, shared by both directions:
// TE and CL together, several TE or CL fields, a coding other than exactly "chunked", or a
// malformed length are all errors. Sets `framing` only when one of the two is present.
Step decideBodyFraming(Cursor& c, const FieldSummary& s, int version_minor, BodyFraming* framing,
                       uint64_t* content_length) {
  if (s.transfer_encoding_count > 0) {
    if (s.content_length_count > 0) {
      return c.fail(400, "both Transfer-Encoding and Content-Length");
    }
    if (version_minor == 0) return c.fail(400, "Transfer-Encoding in an HTTP/1.0 message");
    if (s.transfer_encoding_count > 1) return c.fail(400, "multiple Transfer-Encoding headers");
    if (!equalsIgnoreCase(s.transfer_encoding, "chunked")) {
      return c.fail(400, "unsupported Transfer-Encoding");
    }
    *framing = BodyFraming::kChunked;
  } else if (s.content_length_count > 0) {
    // Several Content-Length fields are refused even when equal: simplest, and no hop can
    // then pick a different one.
    if (s.content_length_count > 1) return c.fail(400, "multiple Content-Length headers");
    if (!parseContentLength(s.content_length, content_length)) {
      return c.fail(400, "invalid Content-Length");
    }
    *framing = BodyFraming::kContentLength;
  }
  return Step::kOk;
}

// ---------------------------------------------------------------------------------------------
// Authority and request-target forms

bool isValidRegName(std::string_view h) {
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i] == '%') {
      if (i + 2 >= h.size() || hexValue(h[i + 1]) < 0 || hexValue(h[i + 2]) < 0) return false;
      i += 2;
    } else if (!is(h[i], kRegNameChar)) {
      return false;
    }
  }
  return !h.empty();
}

// Bracketed IPv6 literal body: hex digits, ':' and '.' (embedded IPv4), at least one ':'.
bool isValidIpLiteral(std::string_view h) {
  bool colon = false;
  for (char c : h) {
    if (c == ':') {
      colon = true;
    } else if (c != '.' && hexValue(c) < 0) {
      return false;
    }
  }
  return colon;
}

bool isValidPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned n = 0;
  for (char c : p) {
    if (!isDigit(c)) return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n <= 65535;
}

// host [":" port] with a non-empty host and, when present, a non-empty numeric port.
// No userinfo: RFC 9110 4.2.4 says to treat it as an error.
bool isValidAuthority(std::string_view a, bool require_port) {
  if (a.empty()) return false;
  size_t host_end;
  if (a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || !isValidIpLiteral(a.substr(1, close - 1))) {
      return false;
    }
    host_end = close + 1;
  } else {
    host_end = std::min(a.find(':'), a.size());
    if (!isValidRegName(a.substr(0, host_end))) return false;
  }
  std::string_view rest = a.substr(host_end);
  if (rest.empty()) return !require_port;
  return rest[0] == ':' && isValidPort(rest.substr(1));
}

// `rest` starts with '/' or '?' or is empty (absolute-form with no path).
void splitPathQuery(std::string_view rest, RequestHead& out) {
  static constexpr std::string_view kRootPath = "/";
  size_t q = rest.find('?');
  out.path = rest.substr(0, q);
  if (q != std::string_view::npos) out.query = rest.substr(q + 1);
  if (out.path.empty()) out.path = kRootPath;
}

// "http://host[:port][/path][?query]" (also https, any case).
Step parseAbsoluteForm(Cursor& c, RequestHead& out) {
  std::string_view t = out.target;
  size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return c.fail(400, "invalid request target");
  std::string_view scheme = t.substr(0, scheme_end);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) {
    return c.fail(400, "unsupported scheme in request target");
  }
  std::string_view rest = t.substr(scheme_end + 3);
  size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  if (!isValidAuthority(authority, false))
    return c.fail(400, "invalid authority in request target");
  out.authority = authority;
  splitPathQuery(rest.substr(authority_end), out);
  return Step::kOk;
}

// Sets path, query and (for absolute-form and CONNECT) authority from the target.
Step classifyTarget(Cursor& c, RequestHead& out) {
  std::string_view t = out.target;
  if (out.method == "CONNECT") {
    if (!isValidAuthority(t, true)) return c.fail(400, "CONNECT needs a host:port target");
    out.authority = t;
    return Step::kOk;
  }
  if (t[0] == '/') {
    splitPathQuery(t, out);
    return Step::kOk;
  }
  if (t == "*") {
    if (out.method != "OPTIONS") return c.fail(400, "asterisk-form target outside OPTIONS");
    out.path = t;
    return Step::kOk;
  }
  return parseAbsoluteForm(c, out);
}

// ---------------------------------------------------------------------------------------------
// Request and response heads

Step applyRequestSemantics(Cursor& c, RequestHead& out) {
  const bool absolute_or_connect = !out.authority.empty();  // set by classifyTarget
  const FieldSummary s = summarize(out.headers);

  // RFC 9112 3.2: 400 for a 1.1 request without Host, for several Host fields, or an invalid
  // one; the Host of an absolute-form request is checked but the target's authority wins.
  if (s.host_count > 1) return c.fail(400, "multiple Host headers");
  if (s.host_count == 0 && out.version_minor == 1) return c.fail(400, "missing Host header");
  if (s.host_count == 1 && !isValidAuthority(s.host, false)) {
    return c.fail(400, "invalid Host header");
  }
  if (!absolute_or_connect) out.authority = s.host;

  TURNOUT_TRY(decideBodyFraming(c, s, out.version_minor, &out.framing, &out.content_length));

  out.keep_alive = out.version_minor == 1 ? !s.conn_close : s.conn_keep_alive && !s.conn_close;
  out.expect_continue = out.version_minor == 1 && equalsIgnoreCase(s.expect, "100-continue");
  out.upgrade = s.conn_upgrade && s.has_upgrade;
  return Step::kOk;
}

Step parseRequest(Cursor& c, const Limits& limits, RequestHead& out) {
  TURNOUT_TRY(skipLeadingEmptyLines(c));
  TURNOUT_TRY(parseRequestLine(c, limits, out));
  TURNOUT_TRY(parseFields(c, limits, out.headers));
  TURNOUT_TRY(classifyTarget(c, out));
  return applyRequestSemantics(c, out);
}

// "HTTP/1.x SP 3DIGIT [SP reason] CRLF": a missing reason, with or without its SP, is accepted.
Step parseStatusLine(Cursor& c, ResponseHead& out) {
  TURNOUT_TRY(parseVersion(c, 502, &out.version_minor));
  if (c.atEnd()) return Step::kMore;
  if (*c.pos != ' ') return c.fail(502, "invalid status line");
  ++c.pos;
  int status = 0;
  for (int i = 0; i < 3; ++i, ++c.pos) {
    if (c.atEnd()) return Step::kMore;
    if (!isDigit(*c.pos)) return c.fail(502, "invalid status code");
    status = status * 10 + (*c.pos - '0');
  }
  if (status < 100 || status > 599) return c.fail(502, "invalid status code");
  out.status = status;
  if (c.atEnd()) return Step::kMore;
  if (*c.pos == ' ') {
    const char* reason = ++c.pos;
    c.pos = scanFieldValue(c.pos, c.end);
    out.reason = std::string_view(reason, static_cast<size_t>(c.pos - reason));
  }
  return expectCrlf(c);
}

Step applyResponseSemantics(Cursor& c, std::string_view request_method, ResponseHead& out) {
  const FieldSummary s = summarize(out.headers);
  out.keep_alive = out.version_minor == 1 ? !s.conn_close : s.conn_keep_alive && !s.conn_close;

  // RFC 9112 6.3 rules 1 and 2: these never have a body, whatever CL or TE say.
  const int st = out.status;
  const bool no_body = request_method == "HEAD" || st < 200 || st == 204 || st == 304 ||
                       (request_method == "CONNECT" && st < 300);
  if (no_body) {
    out.framing = BodyFraming::kNone;
    return Step::kOk;
  }
  out.framing = BodyFraming::kUntilClose;
  TURNOUT_TRY(decideBodyFraming(c, s, out.version_minor, &out.framing, &out.content_length));
  if (out.framing == BodyFraming::kUntilClose) out.keep_alive = false;
  return Step::kOk;
}

Step parseResponse(Cursor& c, const Limits& limits, std::string_view request_method,
                   ResponseHead& out) {
  TURNOUT_TRY(parseStatusLine(c, out));
  TURNOUT_TRY(parseFields(c, limits, out.headers));
  return applyResponseSemantics(c, request_method, out);
}

#undef TURNOUT_TRY

// The head-size limit is enforced by parsing at most max_head_bytes: a head that has not
// ended within them, while more bytes have arrived, is too large.
template <typename Head, typename ParseFn>
ParseStatus runHeadParser(std::string_view input, const Limits& limits, Head& out,
                          ParseError& error, ParseFn parse) {
  out.clear();
  if (out.headers.capacity() == 0) out.headers.reserve(16);
  std::string_view window = input.substr(0, limits.max_head_bytes);
  Cursor c{window.data(), window.data() + window.size(), error};
  switch (parse(c, out)) {
    case Step::kOk:
      out.head_bytes = static_cast<size_t>(c.pos - input.data());
      return ParseStatus::kComplete;
    case Step::kMore:
      if (input.size() > limits.max_head_bytes) {
        error = ParseError{431, "header section too large"};
        return ParseStatus::kError;
      }
      return ParseStatus::kIncomplete;
    case Step::kFail:
      break;
  }
  return ParseStatus::kError;
}

}  // namespace

ParseStatus parseRequestHead(std::string_view input, const Limits& limits, RequestHead& out,
                             ParseError& error) {
  return runHeadParser(input, limits, out, error, [&limits](Cursor& c, RequestHead& head) {
    return parseRequest(c, limits, head);
  });
}

ParseStatus parseResponseHead(std::string_view input, const Limits& limits,
                              std::string_view request_method, ResponseHead& out,
                              ParseError& error) {
  ParseStatus status = runHeadParser(input, limits, out, error, [&](Cursor& c, ResponseHead& head) {
    return parseResponse(c, limits, request_method, head);
  });
  if (status == ParseStatus::kError) error.status = 502;  // the client sees a bad gateway
  return status;
}

// ---------------------------------------------------------------------------------------------
// ChunkedScanner

namespace {
constexpr size_t kMaxChunkExtensionBytes = 4 * 1024;
constexpr int kMaxChunkSizeDigits = 16;  // 16 hex digits always fit in uint64_t
}  // namespace

ParseStatus ChunkedScanner::scan(std::string_view input, size_t* used, ParseError& error) {
  const char* p = input.data();
  const char* const end = p + input.size();
  while (p != end && state_ != State::kDone) {
    if (state_ == State::kData) {  // the bulk of the body: skip it whole
      uint64_t n = std::min<uint64_t>(remaining_, static_cast<uint64_t>(end - p));
      p += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDataCr;
      continue;
    }
    if (const char* reason = consumeByte(static_cast<unsigned char>(*p))) {
      *used = static_cast<size_t>(p - input.data());
      error = ParseError{400, reason};
      return ParseStatus::kError;
    }
    ++p;
  }
  *used = static_cast<size_t>(p - input.data());
  return state_ == State::kDone ? ParseStatus::kComplete : ParseStatus::kIncomplete;
}

const char* ChunkedScanner::consumeByte(unsigned char c) {
  switch (state_) {
    case State::kSize:
      return consumeSizeByte(c);
    case State::kExtension:
      if (c == '\r') {
        state_ = State::kSizeLf;
        return nullptr;
      }
      // Extensions are forwarded untouched, so only their length and bytes are checked.
      if ((c < 0x20 && c != '\t') || c == 0x7F) return "invalid chunk extension";
      if (++extension_bytes_ > kMaxChunkExtensionBytes) return "chunk extension too long";
      return nullptr;
    case State::kSizeLf:
      if (c != '\n') return "bare CR in chunk size line";
      declared_bytes_ =
          remaining_ > UINT64_MAX - declared_bytes_ ? UINT64_MAX : declared_bytes_ + remaining_;
      state_ = remaining_ == 0 ? State::kTrailerLineStart : State::kData;
      return nullptr;
    case State::kDataCr:
      if (c != '\r') return "missing CRLF after chunk data";
      state_ = State::kDataLf;
      return nullptr;
    case State::kDataLf:
      if (c != '\n') return "missing CRLF after chunk data";
      state_ = State::kSize;
      size_digits_ = 0;
      extension_bytes_ = 0;
      return nullptr;
    case State::kData:  // handled in bulk by scan()
    case State::kDone:
      return nullptr;
    default:
      if (++trailer_bytes_ > max_trailer_) return "trailer section too large";
      return consumeTrailerByte(c);
  }
}

// chunk-size = 1*HEXDIG, then ";" extensions or CRLF. No whitespace: "5 " would be read
// differently by a lenient hop.
const char* ChunkedScanner::consumeSizeByte(unsigned char c) {
  int v = hexValue(static_cast<char>(c));
  if (v >= 0) {
    if (size_digits_ == kMaxChunkSizeDigits) return "chunk size too long";
    remaining_ = (remaining_ << 4) | static_cast<uint64_t>(v);
    ++size_digits_;
    return nullptr;
  }
  if (size_digits_ == 0 || (c != ';' && c != '\r')) return "invalid chunk size";
  state_ = c == ';' ? State::kExtension : State::kSizeLf;
  return nullptr;
}

// Trailer lines are validated like header fields: token ":" field-value CRLF.
const char* ChunkedScanner::consumeTrailerByte(unsigned char c) {
  const char ch = static_cast<char>(c);
  switch (state_) {
    case State::kTrailerLineStart:
      if (c == '\r') {
        state_ = State::kFinalLf;
        return nullptr;
      }
      if (!is(ch, kTchar)) return c == ':' ? "empty trailer name" : fieldNameError(ch, true);
      trailer_line_has_colon_ = false;
      state_ = State::kTrailerLine;
      return nullptr;
    case State::kTrailerLine:
      if (!trailer_line_has_colon_) {
        if (c == ':') {
          trailer_line_has_colon_ = true;
        } else if (!is(ch, kTchar)) {
          return fieldNameError(ch, false);
        }
        return nullptr;
      }
      if (c == '\r') {
        state_ = State::kTrailerLf;
      } else if (!is(ch, kFieldChar)) {
        return fieldValueError(ch);
      }
      return nullptr;
    case State::kTrailerLf:
      if (c != '\n') return "CR in trailer value";
      state_ = State::kTrailerLineStart;
      return nullptr;
    case State::kFinalLf:
      if (c != '\n') return "bare CR after trailers";
      state_ = State::kDone;
      return nullptr;
    default:
      return "internal chunked scanner state";
  }
}

}  // namespace turnout::http
