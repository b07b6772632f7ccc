#include "config/load.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/yaml_decode.h"

namespace turnout::config {

std::vector<Error> parseDocument(std::string_view text, Config& out) {
  out = Config{};
  YamlDecoder decoder;
  decoder.decode(text, out);
  std::vector<Error> errors = decoder.errors();
  // The semantic checks run on whatever decoded, so one document reports all its problems;
  // those at fields the decoder already refused would only repeat it.
  for (Error& error : validate(out)) {
    if (decoder.alreadyReported(error.field)) continue;
    error.line = decoder.lineOf(error.field);
    errors.push_back(std::move(error));
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const Error& a, const Error& b) { return a.line < b.line; });
  return errors;
}

std::vector<Error> loadFile(const std::string& path, Config& out) {
  // A directory opens fine as a stream and then reads as empty: refuse it up front.
  std::error_code ec;
  std::ifstream file;
  if (!std::filesystem::is_directory(path, ec)) file.open(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file.is_open() || file.bad()) {
    out = Config{};
    return {Error{"", 0, "cannot read " + path}};
  }
  return parseDocument(text, out);
}

std::string formatError(std::string_view source, const Error& error) {
  std::string out(source);
  if (error.line > 0) out += ":" + std::to_string(error.line);
  out += ": ";
  if (!error.field.empty()) out += error.field + ": ";
  out += error.message;
  return out;
}

}  // namespace turnout::config
