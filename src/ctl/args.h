// The command line of `turnout ctl`, parsed without side effects so it can be unit tested.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace turnout::ctl {

enum class Output { kTable, kJson };

struct CtlOptions {
  std::string admin = "127.0.0.1:9901";  // HOST:PORT of the admin listener
  std::string token;                     // bearer token; empty sends no Authorization
  Output output = Output::kTable;
  double timeout_s = 10;  // per request: connect, send and receive
  bool help = false;
  // The command words: {"get", "services"}, {"delete", "route", "web"}, {"apply"}, ...
  std::vector<std::string> words;
  std::string file;                // apply -f FILE ("-" is stdin)
  bool replace = false;            // apply --replace: PUT /v1/config
  std::optional<long long> since;  // changes --since REV
};

// Looks an environment variable up; nullopt when unset. Injected so tests need no setenv.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
std::optional<std::string> processEnv(const char* name);

struct ParseResult {
  CtlOptions options;
  std::string error;  // non-empty: bad usage (exit 2)
  bool ok() const { return error.empty(); }
};

// Parses the arguments after "ctl". Options may come before or after the command words and
// take their value as `--opt V` or `--opt=V`. Also checks that the words form a known
// command with the right number of operands.
ParseResult parseArgs(const std::vector<std::string>& args, const EnvLookup& env = processEnv);

std::string usageText();

}  // namespace turnout::ctl
