// Amalgam8 selector tables (compat/lua_table.h): the accepted subset, its inverse, and hostile
// text that must come back as an error with an offset, never a crash, hang or evaluation.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "compat/lua_table.h"

namespace turnout::compat {
namespace {

LuaSelector weight(std::string version, double value) {
  LuaSelector s;
  s.version = std::move(version);
  s.weight = value;
  return s;
}

LuaSelector header(std::string version, std::string value) {
  LuaSelector s;
  s.version = std::move(version);
  s.header = std::move(value);
  return s;
}

LuaSelector user(std::string version, std::string value) {
  LuaSelector s;
  s.version = std::move(version);
  s.user = std::move(value);
  return s;
}

// LuaSelector has no operator==; a readable form makes mismatches easy to read in failures.
std::string describe(const LuaSelector& s) {
  std::string out = s.version + ":";
  if (s.weight) out += " weight=" + std::to_string(*s.weight);
  if (s.header) out += " header=" + *s.header;
  if (s.user) out += " user=" + *s.user;
  return out;
}

void expectSame(const std::vector<LuaSelector>& actual, const std::vector<LuaSelector>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE(describe(expected[i]));
    EXPECT_EQ(actual[i].version, expected[i].version);
    EXPECT_EQ(actual[i].weight, expected[i].weight);
    EXPECT_EQ(actual[i].header, expected[i].header);
    EXPECT_EQ(actual[i].user, expected[i].user);
  }
}

std::vector<LuaSelector> parseOk(std::string_view text) {
  std::string error = "stale";
  auto parsed = parseLuaSelectors(text, error);
  EXPECT_TRUE(parsed.has_value()) << text << " -> " << error;
  EXPECT_EQ(error, "");
  return parsed.value_or(std::vector<LuaSelector>{});
}

// The error text for input that must be refused; "" (and a test failure) if it was accepted.
std::string parseError(std::string_view text) {
  std::string error;
  auto parsed = parseLuaSelectors(text, error);
  EXPECT_FALSE(parsed.has_value()) << "accepted: " << text.substr(0, 200);
  EXPECT_EQ(error.rfind("at offset ", 0), 0u) << error;
  return error;
}

TEST(LuaTableParse, SeedForms) {
  expectSame(parseOk("{v2={weight=0.5}}"), {weight("v2", 0.5)});
  expectSame(parseOk("{v2={header=\"Foo:bar\"}}"), {header("v2", "Foo:bar")});
  expectSame(parseOk("{v3={user=\"jason\"}}"), {user("v3", "jason")});
}

TEST(LuaTableParse, SeveralSelectorsKeepSourceOrder) {
  expectSame(parseOk("{v3={user=\"jason\"},v1={weight=0.25},v2={header=\"X-A:^b.*\"}}"),
             {user("v3", "jason"), weight("v1", 0.25), header("v2", "X-A:^b.*")});
}

TEST(LuaTableParse, EmptyTableIsNoSelectors) {
  EXPECT_TRUE(parseOk("{}").empty());
  EXPECT_TRUE(parseOk("  { -- nothing here\n }  ").empty());
}

TEST(LuaTableParse, WhitespaceCommentsAndSeparators) {
  expectSame(parseOk(" \t\r\n{ -- versions\n v2 = { weight = 0.5 , } ; \f\v"
                     "v3={user='a';};-- trailing comment\n} -- done"),
             {weight("v2", 0.5), user("v3", "a")});
  expectSame(parseOk("{v2={weight=1},}"), {weight("v2", 1)});
  expectSame(parseOk("{v2={weight=0};}"), {weight("v2", 0)});
  // "--[x" is an ordinary line comment in Lua; only "--[[" and "--[=[" open long ones.
  expectSame(parseOk("{--[x\nv2={weight=1}}--"), {weight("v2", 1)});
}

TEST(LuaTableParse, NumberForms) {
  expectSame(parseOk("{a={weight=.5},b={weight=1.},c={weight=5e-1},d={weight=0.1E+1},"
                     "e={weight=00.0},f={weight=1e-320}}"),
             {weight("a", 0.5), weight("b", 1), weight("c", 0.5), weight("d", 1), weight("e", 0),
              weight("f", 1e-320)});
}

TEST(LuaTableParse, StringsAndEscapes) {
  expectSame(parseOk(R"({v2={header='Foo:"bar"'},v3={user="it's"},)"
                     R"(v4={user="a\\b\"c\'d\ne\tf"},v5={user=''}})"),
             {header("v2", "Foo:\"bar\""), user("v3", "it's"), user("v4", "a\\b\"c'd\ne\tf"),
              user("v5", "")});
  // Bytes >= 0x80 pass through untouched.
  expectSame(parseOk("{v2={user=\"j\xc3\xa4son\"}}"), {user("v2", "j\xc3\xa4son")});
  expectSame(parseOk(std::string("{v2={user=\"") + std::string(4096, 'x') + "\"}}"),
             {user("v2", std::string(4096, 'x'))});
}

TEST(LuaTableParse, BracketedKeys) {
  expectSame(parseOk(R"({["v-2"]={weight=0.5},[ 'v 3' ]={user="u"},["nil"]={weight=0}})"),
             {weight("v-2", 0.5), user("v 3", "u"), weight("nil", 0)});
  expectSame(parseOk(R"({["v\"q"]={weight=1}})"), {weight("v\"q", 1)});
}

TEST(LuaTableParse, AllowsTheMaximumSelectorCount) {
  std::string text = "{";
  for (int i = 0; i < 256; ++i) text += "v" + std::to_string(i) + "={weight=0},";
  text += "}";
  EXPECT_EQ(parseOk(text).size(), 256u);
  text.insert(text.size() - 1, "extra={weight=0}");
  EXPECT_NE(parseError(text).find("more than 256 selectors"), std::string::npos);
}

TEST(LuaTableFormat, WritesCompactLua) {
  EXPECT_EQ(formatLuaSelectors({}), "{}");
  EXPECT_EQ(formatLuaSelectors({weight("v2", 0.5), header("v3", "Foo:bar")}),
            "{v2={weight=0.5},v3={header=\"Foo:bar\"}}");
  EXPECT_EQ(formatLuaSelectors({user("v3", "jason")}), "{v3={user=\"jason\"}}");
}

TEST(LuaTableFormat, NumbersUseTheShortestExactForm) {
  EXPECT_EQ(formatLuaSelectors({weight("a", 1)}), "{a={weight=1}}");
  EXPECT_EQ(formatLuaSelectors({weight("a", 0)}), "{a={weight=0}}");
  EXPECT_EQ(formatLuaSelectors({weight("a", -0.0)}), "{a={weight=0}}");
  EXPECT_EQ(formatLuaSelectors({weight("a", 0.1)}), "{a={weight=0.1}}");
  EXPECT_EQ(formatLuaSelectors({weight("a", 0.123456789012345)}), "{a={weight=0.123456789012345}}");
  EXPECT_EQ(formatLuaSelectors({weight("a", 1e-7)}), "{a={weight=1e-07}}");
}

TEST(LuaTableFormat, QuotesKeysThatAreNotNames) {
  EXPECT_EQ(formatLuaSelectors({weight("v-2", 1), weight("2v", 1), weight("end", 1),
                                weight("goto", 1), weight("", 1), weight("_ok9", 1)}),
            R"({["v-2"]={weight=1},["2v"]={weight=1},["end"]={weight=1},)"
            R"(["goto"]={weight=1},[""]={weight=1},_ok9={weight=1}})");
}

TEST(LuaTableFormat, EscapesStrings) {
  EXPECT_EQ(formatLuaSelectors({header("v\"2", "a\\b\"c'd\ne\tf")}),
            R"({["v\"2"]={header="a\\b\"c'd\ne\tf"}})");
}

TEST(LuaTableRoundTrip, FormatThenParseIsIdentity) {
  std::vector<LuaSelector> selectors = {
      weight("v1", 0.1 + 0.2),
      weight("v2", 0),
      weight("v3", 1),
      weight("v4", 5e-324),
      weight("v5", 1.0 / 3),
      header("v-6", "X-Env:^(qa|dev)$\\d"),
      user("[v7]", "quote\"'\n\t"),
      user("while", "\xe2\x82\xac"),
      header("with space", ""),
  };
  std::string text = formatLuaSelectors(selectors);
  expectSame(parseOk(text), selectors);
  EXPECT_EQ(formatLuaSelectors(parseOk(text)), text);
}

TEST(LuaTableRoundTrip, RandomSelectors) {
  std::mt19937 rng(20240607);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::string alphabet = "abcXYZ_09-: \"'\\\n\t.[]{}=\xc3\xa9";
  auto randomText = [&](size_t max_len) {
    std::string out;
    for (size_t n = rng() % (max_len + 1); n > 0; --n) out += alphabet[rng() % alphabet.size()];
    return out;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<LuaSelector> selectors;
    for (size_t i = rng() % 8; i > 0; --i) {
      std::string version = "v" + std::to_string(selectors.size()) + randomText(6);
      switch (rng() % 3) {
        case 0:
          selectors.push_back(weight(version, unit(rng)));
          break;
        case 1:
          selectors.push_back(header(version, randomText(20)));
          break;
        default:
          selectors.push_back(user(version, randomText(20)));
          break;
      }
    }
    std::string text = formatLuaSelectors(selectors);
    SCOPED_TRACE(text);
    expectSame(parseOk(text), selectors);
  }
}

struct HostileCase {
  const char* name;
  std::string text;
  std::string error;  // the exact message expected
};

TEST(LuaTableHostile, EachIsACleanError) {
  const std::vector<HostileCase> cases = {
      {"empty input", "", "at offset 0: expected '{'"},
      {"not a table", "v2={weight=0.5}", "at offset 0: expected '{'"},
      {"unclosed outer", "{v2={weight=0.5}",
       "at offset 16: expected ',', ';' or '}' after a selector"},
      {"unclosed inner", "{v2={weight=0.5", "at offset 15: expected ',', ';' or '}' after a field"},
      {"extra close", "{v2={weight=0.5}}}", "at offset 17: expected end of input after '}'"},
      {"trailing text", "{v2={weight=0.5}}extra", "at offset 17: expected end of input after '}'"},
      {"two tables", "{}{}", "at offset 2: expected end of input after '}'"},
      {"function call", "{v2=os.execute(\"rm\")}", "at offset 4: expected '{' after '='"},
      {"call in field", "{v2={weight=os.time()}}", "at offset 12: expected a number"},
      {"call as table", "os.exit()", "at offset 0: expected '{'"},
      {"division", "{v2={weight=1/0}}", "at offset 13: expected ',', ';' or '}' after a field"},
      {"too big", "{v2={weight=2}}", "at offset 12: weight 2 is outside [0, 1]"},
      {"just over", "{v2={weight=1.0000001}}", "at offset 12: weight 1.0000001 is outside [0, 1]"},
      {"negative", "{v2={weight=-0.1}}", "at offset 12: expected a number"},
      {"plus sign", "{v2={weight=+0.1}}", "at offset 12: expected a number"},
      {"overflow", "{v2={weight=1e999}}", "at offset 12: number out of range"},
      {"underflow", "{v2={weight=1e-999}}", "at offset 12: number out of range"},
      {"inf name", "{v2={weight=inf}}", "at offset 12: expected a number"},
      {"nan name", "{v2={weight=nan}}", "at offset 12: expected a number"},
      {"hex", "{v2={weight=0x1}}", "at offset 12: malformed number"},
      {"hex float", "{v2={weight=0x0.8p0}}", "at offset 12: malformed number"},
      {"bare exponent", "{v2={weight=1e}}", "at offset 12: malformed number"},
      {"two dots", "{v2={weight=0.5.1}}", "at offset 12: malformed number"},
      {"lone dot", "{v2={weight=.}}", "at offset 12: expected a number"},
      {"weight string", "{v2={weight=\"0.5\"}}", "at offset 12: expected a number"},
      {"header number", "{v2={header=5}}", "at offset 12: expected a quoted string"},
      {"two conditions", "{v2={weight=0.5,header=\"a:b\"}}",
       "at offset 16: version \"v2\" has more than one of weight, header or user"},
      {"repeated weight", "{v2={weight=0.5;weight=0.5}}",
       "at offset 16: version \"v2\" has more than one of weight, header or user"},
      {"no condition", "{v2={}}",
       "at offset 4: version \"v2\" needs one of weight, header or user"},
      {"empty selector with space", "{[\"v 2\"]={ }}",
       "at offset 9: version \"v 2\" needs one of weight, header or user"},
      {"duplicate version", "{v2={weight=0.5},v2={user=\"x\"}}",
       "at offset 17: version \"v2\" appears more than once"},
      {"duplicate via brackets", "{v2={weight=0.5},['v2']={user=\"x\"}}",
       "at offset 17: version \"v2\" appears more than once"},
      {"unknown field", "{v2={cookie=\"x\"}}",
       "at offset 5: unknown field \"cookie\" (expected weight, header or user)"},
      {"positional value", "{{weight=0.5}}",
       "at offset 1: expected a version: a name or [\"string\"]"},
      {"positional field", "{v2={0.5}}", "at offset 5: expected a field: weight, header or user"},
      {"bare value", "{v2=0.5}", "at offset 4: expected '{' after '='"},
      {"nil value", "{v2=nil}", "at offset 4: expected '{' after '='"},
      {"nil field", "{v2={weight=nil}}", "at offset 12: expected a number"},
      {"true field", "{v2={user=true}}", "at offset 10: expected a quoted string"},
      {"nil key", "{nil={weight=1}}", "at offset 1: \"nil\" is a Lua keyword, not a name"},
      {"true key", "{true={weight=1}}", "at offset 1: \"true\" is a Lua keyword, not a name"},
      {"nil document", "nil", "at offset 0: expected '{'"},
      {"true document", "true", "at offset 0: expected '{'"},
      {"missing equals", "{v2 {weight=1}}", "at offset 4: expected '=' after the version"},
      {"double separator", "{v2={weight=1},,v3={weight=1}}",
       "at offset 15: expected a version: a name or [\"string\"]"},
      {"leading separator", "{,}", "at offset 1: expected a version: a name or [\"string\"]"},
      {"field separator only", "{v2={;}}", "at offset 5: expected a field: weight, header or user"},
      {"unterminated string", "{v2={user=\"jason}}", "at offset 10: unterminated string"},
      {"unterminated escape", "{v2={user=\"jason\\", "at offset 16: unterminated string"},
      {"mismatched quotes", "{v2={user=\"jason'}}", "at offset 10: unterminated string"},
      {"raw newline", "{v2={user=\"ja\nson\"}}",
       "at offset 13: control character in a string (write \\n or \\t)"},
      {"raw tab", "{v2={user=\"ja\tson\"}}",
       "at offset 13: control character in a string (write \\n or \\t)"},
      {"raw DEL", "{v2={user=\"ja\x7fson\"}}",
       "at offset 13: control character in a string (write \\n or \\t)"},
      {"NUL in string", std::string("{v2={user=\"ja\0son\"}}", 20),
       "at offset 13: control character in a string (write \\n or \\t)"},
      {"NUL in name", std::string("{v\0002={weight=1}}", 16),
       "at offset 2: expected '=' after the version"},
      {"NUL after table", std::string("{}\0", 3), "at offset 2: expected end of input after '}'"},
      {"decimal escape", "{v2={user=\"\\65\"}}",
       "at offset 11: unsupported escape (only \\\\ \\\" \\' \\n \\t)"},
      {"hex escape", "{v2={user=\"\\x41\"}}",
       "at offset 11: unsupported escape (only \\\\ \\\" \\' \\n \\t)"},
      {"escaped newline", "{v2={user=\"a\\\nb\"}}",
       "at offset 12: unsupported escape (only \\\\ \\\" \\' \\n \\t)"},
      {"long string value", "{v2={user=[[jason]]}}",
       "at offset 10: long-bracket strings are not supported"},
      {"long string level", "{v2={user=[==[jason]==]}}",
       "at offset 10: long-bracket strings are not supported"},
      {"long string key", "{[[v2]]={weight=1}}",
       "at offset 1: long-bracket strings are not supported"},
      {"long comment", "{--[[ v2={weight=1} ]]}",
       "at offset 1: long comments (--[[ ... ]]) are not supported"},
      {"long comment level", "{} --[==[\n]==]",
       "at offset 3: long comments (--[[ ... ]]) are not supported"},
      {"bracket key unclosed", "{[\"v2\"={weight=1}}",
       "at offset 6: expected ']' after the version"},
      {"bracket key name", "{[v2]={weight=1}}", "at offset 2: expected a quoted string"},
      {"bracket key number", "{[2]={weight=1}}", "at offset 2: expected a quoted string"},
      {"field with brackets", "{v2={[\"weight\"]=1}}",
       "at offset 5: expected a field: weight, header or user"},
      {"concatenation", "{v2={user=\"a\"..\"b\"}}",
       "at offset 13: expected ',', ';' or '}' after a field"},
      {"single minus", "{v2={weight=1}}-", "at offset 15: expected end of input after '}'"},
  };
  for (const HostileCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parseError(c.text), c.error);
  }
}

TEST(LuaTableHostile, DeepNestingIsRejectedAtOnce) {
  EXPECT_EQ(parseError(std::string(10000, '{')),
            "at offset 1: expected a version: a name or [\"string\"]");
  std::string nested = "{v2=";
  for (int i = 0; i < 10000; ++i) nested += "{";
  EXPECT_EQ(parseError(nested), "at offset 5: expected a field: weight, header or user");
}

TEST(LuaTableHostile, OversizedInputIsRejectedBeforeScanning) {
  std::string big = "{v2={user=\"" + std::string(70 * 1024, 'a') + "\"}}";
  EXPECT_EQ(parseError(big), "at offset 65536: input is longer than 65536 bytes");
  // Exactly at the limit is still read.
  std::string edge = "{}" + std::string(64 * 1024 - 2, ' ');
  EXPECT_TRUE(parseOk(edge).empty());
  EXPECT_EQ(parseError(edge + " "), "at offset 65536: input is longer than 65536 bytes");
}

TEST(LuaTableHostile, LongStringsAreBounded) {
  std::string text = "{v2={user=\"" + std::string(4097, 'a') + "\"}}";
  EXPECT_EQ(parseError(text), "at offset 10: string longer than 4096 bytes");
  std::string key = "{[\"" + std::string(5000, 'k') + "\"]={weight=1}}";
  EXPECT_EQ(parseError(key), "at offset 2: string longer than 4096 bytes");
}

TEST(LuaTableHostile, ErrorsQuoteVersionsSafely) {
  // The version holds a newline (from the escape) and is far longer than an error should quote.
  std::string text = "{[\"\\n" + std::string(199, 'v') + "\"]={}}";
  std::string error = parseError(text);
  EXPECT_NE(error.find("\"\\n" + std::string(63, 'v') + "...\""), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

// Either outcome is fine; what matters is no crash (ASan/UBSan in CI), an error that names an
// offset inside the text, and that whatever is accepted survives a format/parse round trip.
void checkArbitraryText(const std::string& text, int& accepted) {
  std::string error;
  auto parsed = parseLuaSelectors(text, error);
  if (parsed) {
    ++accepted;
    EXPECT_EQ(error, "");
    expectSame(parseOk(formatLuaSelectors(*parsed)), *parsed);
    return;
  }
  ASSERT_EQ(error.rfind("at offset ", 0), 0u) << error;
  EXPECT_LE(std::stoul(error.substr(10)), text.size()) << error;
}

// Grammar characters, so the scanner gets past byte 0; the terminating NUL (counted by sizeof)
// is deliberately one of the choices.
constexpr char kFuzzAlphabet[] = "{}[]=,;'\"\\-.0123456789eE+ \n\tvweighthdrusnl_x/()\x7f\xc3";

char randomGrammarByte(std::mt19937& rng) { return kFuzzAlphabet[rng() % sizeof(kFuzzAlphabet)]; }

TEST(LuaTableHostile, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text = rng() % 2 ? "{" : "";
    for (size_t n = rng() % 64; n > 0; --n) text += randomGrammarByte(rng);
    checkArbitraryText(text, accepted);
  }
}

TEST(LuaTableHostile, MutatedValidTextNeverCrashes) {
  const std::string seed =
      "{v2={weight=0.5},['v-3']={header=\"Foo:b\\\"ar\"};v4={user='jason'},} -- c\n";
  std::mt19937 rng(54321);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text = seed;
    for (size_t edits = 1 + rng() % 3; edits > 0; --edits) {
      size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          text.insert(at, 1, randomGrammarByte(rng));
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = randomGrammarByte(rng);
          break;
      }
    }
    checkArbitraryText(text, accepted);
  }
  EXPECT_GT(accepted, 0) << "some mutations (a digit for a digit, a space) should still parse";
}

}  // namespace
}  // namespace turnout::compat
