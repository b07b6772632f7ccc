#include "compat/lua_table.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace turnout::compat {
namespace {

constexpr size_t kMaxInput = 64 * 1024;
constexpr size_t kMaxSelectors = 256;
constexpr size_t kMaxString = 4096;
// Error messages quote user text; keep them readable and bounded.
constexpr size_t kMaxQuoted = 64;

// Lua 5.1 reserved words: these are not NAMEs, so `{nil={...}}` is a syntax error in Lua too.
constexpr std::string_view kKeywords[] = {
    "and",   "break", "do",  "else", "elseif", "end",    "false", "for",  "function", "if",    "in",
    "local", "nil",   "not", "or",   "repeat", "return", "then",  "true", "until",    "while",
};

bool isKeyword(std::string_view name) {
  for (std::string_view keyword : kKeywords) {
    if (name == keyword) return true;
  }
  return false;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

// Lua's isspace() in the C locale.
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool isControl(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool isName(std::string_view text) {
  if (text.empty() || !isNameStart(text.front())) return false;
  for (char c : text) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

// Writes `text` as the body of a double-quoted Lua string. Control characters other than \n and
// \t have no escape in the accepted grammar; the decimal form keeps the output valid Lua.
void appendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (isControl(c)) {
          char digits[4];
          std::to_chars(digits, digits + 3, 1000 + static_cast<unsigned char>(c));
          out += '\\';
          out.append(digits + 1, 3);
        } else {
          out += c;
        }
    }
  }
}

// A version or name as it may appear in an error message: bounded and printable.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  appendEscaped(out, text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

// Shortest text that reads back as the same double; at most 17 significant digits, and 15 or
// fewer whenever that suffices.
void appendNumber(std::string& out, double value) {
  if (value == 0) value = 0;  // "-0" would not parse: the grammar has no sign
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

class Parser {
 public:
  Parser(std::string_view text, std::string& error) : text_(text), error_(error) {}

  std::optional<std::vector<LuaSelector>> parse() {
    std::vector<LuaSelector> selectors;
    if (!parseDocument(selectors)) return std::nullopt;
    return selectors;
  }

 private:
  bool parseDocument(std::vector<LuaSelector>& selectors) {
    if (text_.size() > kMaxInput) return fail(kMaxInput, "input is longer than 65536 bytes");
    if (!expect('{', "'{'") || !parseEntries(selectors) || !skipSpace()) return false;
    if (!atEnd()) return fail(pos_, "expected end of input after '}'");
    return true;
  }

  bool fail(size_t offset, std::string_view what) {
    error_ = "at offset " + std::to_string(offset) + ": ";
    error_ += what;
    return false;
  }

  bool atEnd() const { return pos_ >= text_.size(); }
  // '\0' past the end: it starts no token, so callers need no separate end check (a real NUL
  // in the text is rejected the same way).
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  // Skips whitespace and line comments. Long comments ("--[[ ... ]]") are refused rather than
  // misread as line comments, which would accept text Lua reads differently.
  bool skipSpace() {
    while (!atEnd()) {
      if (isSpace(peek())) {
        ++pos_;
      } else if (peek() == '-' && peek(1) == '-') {
        if (startsLongBracket(pos_ + 2)) {
          return fail(pos_, "long comments (--[[ ... ]]) are not supported");
        }
        size_t newline = text_.find('\n', pos_);
        pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
      } else {
        break;
      }
    }
    return true;
  }

  // Lua's long-bracket opener: '[' then any number of '=' then '['.
  bool startsLongBracket(size_t at) const {
    if (at >= text_.size() || text_[at] != '[') return false;
    ++at;
    while (at < text_.size() && text_[at] == '=') ++at;
    return at < text_.size() && text_[at] == '[';
  }

  // Consumes `c` after optional whitespace.
  bool expect(char c, std::string_view what) {
    if (!skipSpace()) return false;
    if (peek() != c) return fail(pos_, std::string("expected ") + std::string(what));
    ++pos_;
    return true;
  }

  // After a table's '{': entries up to and including the closing '}'.
  bool parseEntries(std::vector<LuaSelector>& selectors) {
    if (!skipSpace()) return false;
    if (peek() == '}') return ++pos_, true;
    return parseList([&] { return parseEntry(selectors); }, "a selector");
  }

  // One or more items, each followed by ',' or ';' except that the last one's is optional, then
  // the closing '}'. Shared by the outer table and each selector's table.
  template <typename ParseItem>
  bool parseList(ParseItem parse_item, std::string_view item) {
    while (true) {
      if (!parse_item() || !skipSpace()) return false;
      if (peek() == '}') return ++pos_, true;
      if (peek() != ',' && peek() != ';') {
        return fail(pos_, "expected ',', ';' or '}' after " + std::string(item));
      }
      ++pos_;
      if (!skipSpace()) return false;
      if (peek() == '}') return ++pos_, true;
    }
  }

  bool parseEntry(std::vector<LuaSelector>& selectors) {
    size_t key_at = pos_;
    LuaSelector selector;
    if (!parseKey(selector.version)) return false;
    for (const LuaSelector& seen : selectors) {
      if (seen.version == selector.version) {
        return fail(key_at, "version " + quoted(selector.version) + " appears more than once");
      }
    }
    if (selectors.size() == kMaxSelectors) {
      return fail(key_at, "more than 256 selectors");
    }
    if (!expect('=', "'=' after the version") || !expect('{', "'{' after '='")) return false;
    if (!parseFields(selector)) return false;
    selectors.push_back(std::move(selector));
    return true;
  }

  bool parseKey(std::string& version) {
    if (peek() == '[') {
      if (startsLongBracket(pos_)) return fail(pos_, "long-bracket strings are not supported");
      ++pos_;
      if (!skipSpace() || !parseString(version)) return false;
      return expect(']', "']' after the version");
    }
    std::string_view name;
    if (!parseName(name, "expected a version: a name or [\"string\"]")) return false;
    version = name;
    return true;
  }

  bool parseName(std::string_view& name, std::string_view what) {
    size_t start = pos_;
    if (!isNameStart(peek())) return fail(pos_, what);
    while (isNameChar(peek())) ++pos_;
    name = text_.substr(start, pos_ - start);
    if (isKeyword(name)) {
      return fail(start, quoted(name) + " is a Lua keyword, not a name");
    }
    return true;
  }

  // After a selector's '{': fields up to and including the closing '}'.
  bool parseFields(LuaSelector& selector) {
    size_t open_at = pos_ - 1;
    if (!skipSpace()) return false;
    if (peek() == '}') {
      return fail(open_at,
                  "version " + quoted(selector.version) + " needs one of weight, header or user");
    }
    return parseList([&] { return parseField(selector); }, "a field");
  }

  bool parseField(LuaSelector& selector) {
    size_t field_at = pos_;
    std::string_view name;
    if (!parseName(name, "expected a field: weight, header or user")) return false;
    if (name != "weight" && name != "header" && name != "user") {
      return fail(field_at, "unknown field " + quoted(name) + " (expected weight, header or user)");
    }
    if (selector.weight || selector.header || selector.user) {
      return fail(field_at, "version " + quoted(selector.version) +
                                " has more than one of weight, header or user");
    }
    if (!expect('=', "'=' after the field name") || !skipSpace()) return false;
    if (name == "weight") return parseWeight(selector.weight.emplace());
    return parseString(name == "header" ? selector.header.emplace() : selector.user.emplace());
  }

  bool parseWeight(double& weight) {
    size_t start = pos_;
    if (!parseNumber(weight)) return false;
    if (!std::isfinite(weight) || weight < 0 || weight > 1) {
      return fail(start, "weight " + std::string(text_.substr(start, pos_ - start)).substr(0, 32) +
                             " is outside [0, 1]");
    }
    return true;
  }

  // Lua's decimal numerals without sign: digits [. digits] [e [+-] digits], or .digits. Like
  // Lua's lexer, a numeral running straight into a letter ("0x10", "1e") is malformed.
  bool parseNumber(double& value) {
    size_t start = pos_;
    size_t digits = skipDigits();
    if (peek() == '.') {
      ++pos_;
      digits += skipDigits();
    }
    if (digits == 0) return fail(start, "expected a number");
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (skipDigits() == 0) return fail(start, "malformed number");
    }
    if (isNameChar(peek()) || peek() == '.') return fail(start, "malformed number");
    auto result = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (result.ec == std::errc::result_out_of_range) return fail(start, "number out of range");
    if (result.ec != std::errc() || result.ptr != text_.data() + pos_) {
      return fail(start, "malformed number");
    }
    return true;
  }

  size_t skipDigits() {
    size_t start = pos_;
    while (isDigit(peek())) ++pos_;
    return pos_ - start;
  }

  bool parseString(std::string& out) {
    size_t open_at = pos_;
    char quote = peek();
    if (quote != '"' && quote != '\'') {
      if (startsLongBracket(pos_)) return fail(pos_, "long-bracket strings are not supported");
      return fail(pos_, "expected a quoted string");
    }
    ++pos_;
    while (true) {
      if (atEnd()) return fail(open_at, "unterminated string");
      char c = text_[pos_];
      if (c == quote) break;
      if (c == '\\') {
        if (!appendEscape(out)) return false;
      } else if (isControl(c)) {
        return fail(pos_, "control character in a string (write \\n or \\t)");
      } else {
        out += c;
        ++pos_;
      }
      if (out.size() > kMaxString) return fail(open_at, "string longer than 4096 bytes");
    }
    ++pos_;
    return true;
  }

  bool appendEscape(std::string& out) {
    switch (peek(1)) {
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      default:
        if (pos_ + 1 >= text_.size()) return fail(pos_, "unterminated string");
        return fail(pos_, "unsupported escape (only \\\\ \\\" \\' \\n \\t)");
    }
    pos_ += 2;
    return true;
  }

  std::string_view text_;
  std::string& error_;
  size_t pos_ = 0;
};

void appendKey(std::string& out, std::string_view version) {
  // "goto" became reserved in Lua 5.2; quoting it keeps the output readable by any Lua.
  if (isName(version) && !isKeyword(version) && version != "goto") {
    out += version;
    return;
  }
  out += "[\"";
  appendEscaped(out, version);
  out += "\"]";
}

void appendString(std::string& out, std::string_view text) {
  out += '"';
  appendEscaped(out, text);
  out += '"';
}

}  // namespace

std::optional<std::vector<LuaSelector>> parseLuaSelectors(std::string_view text,
                                                          std::string& error) {
  error.clear();
  return Parser(text, error).parse();
}

std::string formatLuaSelectors(const std::vector<LuaSelector>& selectors) {
  std::string out = "{";
  for (size_t i = 0; i < selectors.size(); ++i) {
    const LuaSelector& selector = selectors[i];
    if (i > 0) out += ',';
    appendKey(out, selector.version);
    out += "={";
    // A valid selector has exactly one condition; should a caller build more, all are written so
    // nothing is silently dropped (and parsing the result reports it).
    const char* separator = "";
    if (selector.weight) {
      out += "weight=";
      appendNumber(out, *selector.weight);
      separator = ",";
    }
    if (selector.header) {
      out += separator;
      out += "header=";
      appendString(out, *selector.header);
      separator = ",";
    }
    if (selector.user) {
      out += separator;
      out += "user=";
      appendString(out, *selector.user);
    }
    out += '}';
  }
  out += '}';
  return out;
}

}  // namespace turnout::compat
