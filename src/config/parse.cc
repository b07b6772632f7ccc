// The parse* entry points of config/load.h: pick the adapter for the format, run the one
// decoder, then the semantic checks that apply to what was parsed.
#include <exception>
#include <utility>

#include "config/checks.h"
#include "config/decode_state.h"
#include "config/decoder.h"
#include "config/json_adapter.h"
#include "config/json_tree.h"
#include "config/load.h"
#include "config/paralarva.h"
#include "config/yaml_adapter.h"

namespace turnout::config {
namespace {

bool isBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Parses `text` in `format` and hands the decoder and root to `decode`, which returns whether
// the root held the expected object (the semantic checks are pointless otherwise).
template <class Decode>
bool decodeAs(std::string_view text, Format format, DecodeState& state, Decode decode) {
  if (format == Format::kJson) {
    JsonValue root;
    if (!parseJson(text, root, state)) return false;
    Decoder<JsonAdapter> decoder(state);
    return decode(decoder, JsonAdapter::Node(&root));
  }
  YAML::Node root;
  if (!parseYaml(text, root, state)) return false;
  Decoder<YamlAdapter> decoder(state);
  return decode(decoder, root);
}

// The shape shared by every entry point: decode, check, merge; nothing thrown gets out.
// `blank_is_error`: an empty text is "empty document" (always for JSON, for YAML objects).
template <class Decode, class Check>
std::vector<Error> parse(std::string_view text, Format format, bool blank_is_error, Decode decode,
                         Check check) {
  try {
    if (blank_is_error && isBlank(text)) return {Error{"", 0, "empty document"}};
    DecodeState state;
    std::vector<Error> semantic;
    if (decodeAs(text, format, state, decode)) check(semantic);
    return std::move(state).finish(std::move(semantic));
  } catch (const std::exception& e) {
    return {Error{"", 0, std::string("cannot parse the document: ") + e.what()}};
  }
}

// Objects checked on their own: split targets are checked later against the snapshot.
checks::TargetStatus anyTargetExists(std::string_view, std::string_view) {
  return checks::TargetStatus::kOk;
}

}  // namespace

std::vector<Error> parseDocument(std::string_view text, Format format, Config& out) {
  return parseDocument(text, format, Empty::kAllowedInYaml, out);
}

std::vector<Error> parseDocument(std::string_view text, Format format, Empty empty, Config& out) {
  out = Config{};
  const bool allow_empty = format == Format::kYaml && empty == Empty::kAllowedInYaml;
  Document document;
  return parse(
      text, format, !allow_empty,
      [&](auto& decoder, const auto& root) {
        return decoder.document(root, allow_empty, document);
      },
      [&](std::vector<Error>& errors) { errors = finishDocument(std::move(document), out); });
}

std::vector<Error> parseService(std::string_view text, Format format, Service& out) {
  out = Service{};
  return parse(
      text, format, true,
      [&](auto& decoder, const auto& root) { return decoder.serviceObject(root, out); },
      [&](std::vector<Error>& errors) { checks::checkService(out, "", errors); });
}

std::vector<Error> parseListener(std::string_view text, Format format, Listener& out) {
  out = Listener{};
  return parse(
      text, format, true,
      [&](auto& decoder, const auto& root) { return decoder.listenerObject(root, out); },
      [&](std::vector<Error>& errors) { checks::checkListener(out, "", errors); });
}

std::vector<Error> parseRoute(std::string_view text, Format format, Route& out) {
  out = Route{};
  return parse(
      text, format, true,
      [&](auto& decoder, const auto& root) { return decoder.routeObject(root, out); },
      [&](std::vector<Error>& errors) { checks::checkRoute(out, "", anyTargetExists, errors); });
}

std::vector<Error> parseEndpoints(std::string_view text, Format format,
                                  std::vector<Endpoint>& out) {
  out.clear();
  return parse(
      text, format, true,
      [&](auto& decoder, const auto& root) { return decoder.endpointList(root, out); },
      [&](std::vector<Error>& errors) { checks::checkEndpoints(out, "endpoints", errors); });
}

namespace {

void noChecks(std::vector<Error>&) {}

}  // namespace

std::vector<Error> decodeStored(std::string_view json, Listener& out) {
  out = Listener{};
  return parse(
      json, Format::kJson, true,
      [&](auto& decoder, const auto& root) { return decoder.listenerObject(root, out); }, noChecks);
}

std::vector<Error> decodeStored(std::string_view json, Service& out) {
  out = Service{};
  return parse(
      json, Format::kJson, true,
      [&](auto& decoder, const auto& root) { return decoder.serviceObject(root, out); }, noChecks);
}

std::vector<Error> decodeStored(std::string_view json, Route& out) {
  out = Route{};
  return parse(
      json, Format::kJson, true,
      [&](auto& decoder, const auto& root) { return decoder.routeObject(root, out); }, noChecks);
}

}  // namespace turnout::config
