// A small leveled logger to stderr. One line per call, written with one write(2) so lines of
// different threads never interleave. The data path does not log per request.
#pragma once

#include <string_view>

namespace turnout::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// "debug", "info", "warn"/"warning", "error", "off" (case-insensitive); false if unknown.
bool parseLogLevel(std::string_view text, LogLevel& out);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);
void logLine(LogLevel level, std::string_view message);

}  // namespace turnout::core
