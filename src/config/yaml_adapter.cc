#include "config/yaml_adapter.h"

#include <vector>

namespace turnout::config {
namespace {

// The byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code
// points past U+10FFFF included), or npos. YAML text is Unicode; yaml-cpp passes bytes through.
size_t invalidUtf8At(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = c >= 0xc2 && c <= 0xdf   ? 2
                    : c >= 0xe0 && c <= 0xef ? 3
                    : c >= 0xf0 && c <= 0xf4 ? 4
                                             : 0;
    if (length == 0 || i + length > text.size()) return i;
    uint32_t code = c & (0xff >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    const uint32_t min = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return std::string_view::npos;
}

// yaml-cpp 0.7 reads a quote opened on the last line and never closed (`name: "`) as an empty
// string instead of refusing it: count the quotes of the last line.
bool endsInsideQuotes(std::string_view text) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return false;
  const size_t line_start = text.rfind('\n', end);
  const std::string_view line =
      text.substr(line_start == std::string_view::npos ? 0 : line_start + 1,
                  end + 1 - (line_start == std::string_view::npos ? 0 : line_start + 1));
  bool in_double = false, in_single = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_double) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_double = false;
    } else if (in_single) {
      if (c == '\'') in_single = false;  // '' (an escaped quote) closes and reopens: same parity
    } else if (c == '#') {
      break;
    } else if (c == '"') {
      in_double = true;
    } else if (c == '\'' &&
               (i == 0 || line[i - 1] == ' ' || line[i - 1] == ':' || line[i - 1] == '[' ||
                line[i - 1] == '{' || line[i - 1] == ',' || line[i - 1] == '-')) {
      in_single = true;  // a quote that starts a scalar, not an apostrophe inside a word
    }
  }
  return in_double || in_single;
}

}  // namespace

static_assert(NodeAdapter<YamlAdapter>);

bool parseYaml(std::string_view text, YAML::Node& root, DecodeState& state) {
  if (const size_t bad = invalidUtf8At(text); bad != std::string_view::npos) {
    state.fail("", 0, "invalid UTF-8 at byte " + std::to_string(bad));
    return false;
  }
  if (endsInsideQuotes(text)) {
    state.fail("", 0, "a quoted scalar is not closed at the end of the document");
    return false;
  }
  try {
    // LoadAll, not Load: Load reads the first document and silently drops the rest.
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.size() > 1) {
      state.fail(
          "", 0,
          "the text holds " + std::to_string(documents.size()) + " YAML documents; send one");
      return false;
    }
    root = documents.empty() ? YAML::Node() : documents[0];
    return true;
  } catch (const YAML::Exception& e) {
    state.fail("", e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg);
  } catch (const std::exception& e) {
    // yaml-cpp also throws std:: exceptions (bad_alloc, its depth guard's runtime errors).
    state.fail("", 0, e.what());
  }
  return false;
}

}  // namespace turnout::config
