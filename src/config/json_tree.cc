#include "config/json_tree.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace turnout::config {
namespace {

using Json = nlohmann::json;

// 1-based line of byte `offset`: only computed for the one error a document can have.
int lineAt(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

// nlohmann quotes the bytes it read last, which may be the invalid UTF-8 that failed: spelt
// \xNN so that the message itself is safe to put in a JSON error response or a log line.
std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<uint8_t>(c);
    if (byte >= 0x20 && byte < 0x7F) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

// "[json.exception.parse_error.101] parse error at line 1, column 18: syntax error ..." ->
// "syntax error ...": the byte offset and line are reported separately.
std::string reasonOf(const std::exception& error) {
  std::string_view what = error.what();
  if (what.starts_with("[json.exception.")) {
    size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  if (what.starts_with("parse error")) {
    size_t colon = what.find(": ");
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  }
  return printable(what);
}

// Builds the JsonValue tree from SAX events. `stack_` holds the open containers; each is an
// element of its parent's `items`, which does not grow while the child is open, so the
// pointers stay valid.
class TreeBuilder {
 public:
  TreeBuilder(std::string_view text, JsonValue& root, DecodeState& state)
      : text_(text), root_(root), state_(state) {}

  bool null() {
    add(JsonValue::Kind::kNull);
    return true;
  }
  bool boolean(bool value) {
    add(JsonValue::Kind::kBool).boolean = value;
    return true;
  }
  bool number_integer(Json::number_integer_t value) {
    JsonValue& added = add(JsonValue::Kind::kInteger);
    added.integer = value;
    added.number = static_cast<double>(value);
    return true;
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      add(JsonValue::Kind::kHugeInteger).number = static_cast<double>(value);
    } else {
      JsonValue& added = add(JsonValue::Kind::kInteger);
      added.integer = static_cast<int64_t>(value);
      added.number = static_cast<double>(value);
    }
    return true;
  }
  bool number_float(Json::number_float_t value, const Json::string_t&) {
    add(JsonValue::Kind::kFloat).number = value;  // finite: the parser refuses NaN and inf
    return true;
  }
  bool string(Json::string_t& value) {
    // The lexer clears its buffer before each token, so the text can be taken.
    add(JsonValue::Kind::kString).text = std::move(value);
    return true;
  }
  bool binary(Json::binary_t&) { return false; }  // not produced by the JSON lexer

  bool start_object(std::size_t) { return open(JsonValue::Kind::kObject); }
  bool start_array(std::size_t) { return open(JsonValue::Kind::kArray); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& value) {
    key_ = std::move(value);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // A number too large for a double (1e400) is a bad value, not bad syntax: say where.
    std::string field = e.id == 406 ? currentField() : std::string();
    // nlohmann counts the bytes read, the offending one included: its 0-based offset is one less.
    size_t offset = position > 0 ? position - 1 : 0;
    std::string message = "invalid JSON at byte " + std::to_string(offset) + ": " + reasonOf(e);
    state_.fail(field, lineAt(text_, offset), std::move(message));
    return false;
  }

  // Set when the depth limit stopped the parse (parse_error is not called then).
  bool tooDeep() const { return too_deep_; }

 private:
  JsonValue& add(JsonValue::Kind kind) {
    JsonValue* value = &root_;
    if (!stack_.empty()) {
      JsonValue& parent = *stack_.back();
      value = &parent.items.emplace_back();
      if (parent.kind == JsonValue::Kind::kObject) value->key = std::move(key_);
    }
    value->kind = kind;
    return *value;
  }

  bool open(JsonValue::Kind kind) {
    // Checked before descending, so a 10,000-deep document costs 64 levels and no recursion.
    if (stack_.size() >= kMaxJsonDepth) {
      too_deep_ = true;
      state_.fail(currentField(), 0,
                  "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      return false;
    }
    JsonValue& container = add(kind);
    // Model objects have up to 9 members: one allocation instead of growing 1, 2, 4, 8, 16.
    if (kind == JsonValue::Kind::kObject) container.items.reserve(8);
    stack_.push_back(&container);
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  // The field path of the value being parsed ("routes[3].split[0].weight"), for errors: each
  // open container is the last item of the one below it, the pending value comes after them.
  std::string currentField() const {
    std::string field;
    for (size_t k = 0; k < stack_.size(); ++k) {
      const JsonValue& parent = *stack_[k];
      bool pending = k + 1 == stack_.size();
      if (parent.kind == JsonValue::Kind::kArray) {
        size_t index = pending ? parent.items.size() : parent.items.size() - 1;
        // Appended piecewise: "[" + std::to_string() trips GCC 12's -Wrestrict false positive.
        field += '[';
        field += std::to_string(index);
        field += ']';
      } else {
        field += ".";
        field += pending ? key_ : stack_[k + 1]->key;
      }
    }
    if (field.starts_with('.')) field.erase(0, 1);
    return field;
  }

  std::string_view text_;
  JsonValue& root_;
  DecodeState& state_;
  std::vector<JsonValue*> stack_;
  std::string key_;
  bool too_deep_ = false;
};

}  // namespace

bool parseJson(std::string_view text, JsonValue& root, DecodeState& state) {
  // nlohmann's lexer takes a NUL byte for the end of the input and would accept what precedes
  // it; JSON text can hold no raw NUL anywhere, so refuse it here.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    state.fail("", 0, "invalid JSON at byte " + std::to_string(nul) + ": NUL byte");
    return false;
  }
  TreeBuilder builder(text, root, state);
  try {
    return Json::sax_parse(text.begin(), text.end(), &builder) && !builder.tooDeep();
  } catch (const std::exception& e) {
    // The SAX parser reports through parse_error; this is for bad_alloc and the like.
    state.fail("", 0, std::string("invalid JSON: ") + e.what());
    return false;
  }
}

}  // namespace turnout::config
