// Amalgam8's version selectors arrive as a Lua table literal inside a JSON string
// ("{v2={weight=0.5}}", "{v2={header=\"Foo:bar\"}}", "{v3={user=\"jason\"}}"), which the
// original handed to loadstring(). This is a small parser for exactly that subset: it never
// evaluates anything, bounds its input, and says where it stopped when the text is not one.
// Private to the compat module.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace turnout::compat {

// One selector: the version it selects and its single condition, in the original's order.
struct LuaSelector {
  std::string version;                // the table key ("v2")
  std::optional<double> weight;       // weight=0.5: probability in [0, 1]
  std::optional<std::string> header;  // header="Name:regex"
  std::optional<std::string> user;    // user="jason": the `user` cookie equals it
};

// Parses `text` (at most 64 KiB) into selectors in source order. Accepted grammar (Lua 5.1
// table constructors, restricted):
//   table   := '{' [ entry { (',' | ';') entry } [',' | ';'] ] '}'
//   entry   := key '=' '{' field { (',' | ';') field } [',' | ';'] '}'
//   key     := NAME | '[' STRING ']'           (the version)
//   field   := ('weight' '=' NUMBER) | ('header' '=' STRING) | ('user' '=' STRING)
//   STRING  := '"' ... '"' | '\'' ... '\''    with \\ \" \' \n \t escapes only
//   NUMBER  := decimal, optional fraction and exponent (no hex, no inf/nan)
// Whitespace and Lua comments ("-- ..." to end of line) are skipped. A selector must have
// exactly one of weight/header/user; a version may appear once; weight must be in [0, 1].
// Returns nullopt with `error` ("at offset 12: expected '='") when the text is anything else.
std::optional<std::vector<LuaSelector>> parseLuaSelectors(std::string_view text,
                                                          std::string& error);

// The inverse, for GET /a8-admin: "{v2={weight=0.5},v3={header=\"Foo:bar\"}}".
std::string formatLuaSelectors(const std::vector<LuaSelector>& selectors);

}  // namespace turnout::compat
