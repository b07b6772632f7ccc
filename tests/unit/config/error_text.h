// Errors as "field: message" lines, and the expectations the model tests state with them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/model.h"

namespace turnout::config {

inline std::vector<std::string> describe(const std::vector<Error>& errors) {
  std::vector<std::string> out;
  for (const Error& e : errors) out.push_back(e.field + ": " + e.message);
  return out;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n  " + line;
  return out.empty() ? " (none)" : out;
}

inline bool contains(const std::vector<std::string>& errors, const std::string& wanted) {
  return std::find(errors.begin(), errors.end(), wanted) != errors.end();
}

}  // namespace turnout::config

#define EXPECT_HAS_ERROR(errors, wanted)                          \
  do {                                                            \
    auto errors_ = (errors);                                      \
    EXPECT_TRUE(contains(errors_, wanted))                        \
        << "wanted: " << (wanted) << "\ngot:" << joined(errors_); \
  } while (0)

#define EXPECT_NO_ERRORS(errors)                               \
  do {                                                         \
    auto errors_ = (errors);                                   \
    EXPECT_TRUE(errors_.empty()) << "got:" << joined(errors_); \
  } while (0)
