// A JSON document as the decoder needs it: values in document order with duplicate keys kept
// (nlohmann::json's own objects keep only the last of a repeated key, hiding the mistake), and
// nesting bounded so that nothing downstream recurses deeply. Built by nlohmann's SAX parser.
// Private to the config module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/decode_state.h"

namespace turnout::config {

// Deeper documents are refused while parsing; the model needs 6 levels.
inline constexpr size_t kMaxJsonDepth = 64;

struct JsonValue {
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kInteger,
    kHugeInteger,
    kFloat,
    kString,
    kObject,
    kArray
  };

  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;           // kInteger; kHugeInteger is a whole number above INT64_MAX
  double number = 0;             // kFloat, and kInteger / kHugeInteger as a double
  std::string text;              // kString
  std::string key;               // this value's key when it is a member of an object
  std::vector<JsonValue> items;  // members of an object or elements of an array, in order
};

// Parses `text` (strict: one value, nothing after it but whitespace) into `root`. A syntax
// error, invalid UTF-8, a non-finite number or nesting deeper than kMaxJsonDepth is recorded
// in `state` and gives false; syntax errors read "invalid JSON at byte N: reason" (N 0-based,
// the offending byte). Never throws.
bool parseJson(std::string_view text, JsonValue& root, DecodeState& state);

}  // namespace turnout::config
