#include "config/load.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace turnout::config {

std::vector<Error> parseDocument(std::string_view text, Config& out) {
  return parseDocument(text, Format::kYaml, out);
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
  if (error.line > 0) {
    out += ':';  // piecewise: ":" + std::to_string() trips GCC 12's -Wrestrict false positive
    out += std::to_string(error.line);
  }
  out += ": ";
  if (!error.field.empty()) out += error.field + ": ";
  out += error.message;
  return out;
}

}  // namespace turnout::config
