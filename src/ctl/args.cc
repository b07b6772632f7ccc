#include "ctl/args.h"

#include <charconv>
#include <cstdlib>

namespace turnout::ctl {

namespace {

// The value of `--name V` / `--name=V` / `-x V`; advances `i` past what it consumed.
struct OptionValue {
  bool matched = false;
  std::optional<std::string> value;
};

OptionValue takeValue(const std::vector<std::string>& args, size_t& i, const char* shortName,
                      const char* longName) {
  const std::string& arg = args[i];
  std::string long_eq = std::string(longName) + "=";
  if (arg.rfind(long_eq, 0) == 0) return {true, arg.substr(long_eq.size())};
  if (arg != longName && (shortName == nullptr || arg != shortName)) return {};
  if (i + 1 >= args.size()) return {true, std::nullopt};
  return {true, args[++i]};
}

bool parseOutput(const std::string& text, Output& out) {
  if (text != "table" && text != "json") return false;
  out = text == "json" ? Output::kJson : Output::kTable;
  return true;
}

bool parseNonNegative(const std::string& text, long long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

bool parseTimeout(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && out > 0 && out <= 3600;
}

// One option at args[i]; returns an error, "" when it was handled, or nullopt when args[i]
// is not an option this parser knows.
std::optional<std::string> parseOption(const std::vector<std::string>& args, size_t& i,
                                       CtlOptions& o) {
  const std::string& arg = args[i];
  if (arg == "-h" || arg == "--help") {
    o.help = true;
    return "";
  }
  if (arg == "--replace") {
    o.replace = true;
    return "";
  }
  struct Spec {
    const char* shortName;
    const char* longName;
    std::function<bool(const std::string&)> set;
  };
  const Spec specs[] = {
      {nullptr, "--admin", [&](const std::string& v) { return !(o.admin = v).empty(); }},
      {nullptr, "--token", [&](const std::string& v) { return (o.token = v), true; }},
      {"-o", "--output", [&](const std::string& v) { return parseOutput(v, o.output); }},
      {"-f", "--filename", [&](const std::string& v) { return !(o.file = v).empty(); }},
      {nullptr, "--timeout", [&](const std::string& v) { return parseTimeout(v, o.timeout_s); }},
      {nullptr, "--since",
       [&](const std::string& v) {
         long long rev = 0;
         if (!parseNonNegative(v, rev)) return false;
         o.since = rev;
         return true;
       }},
  };
  for (const Spec& spec : specs) {
    OptionValue got = takeValue(args, i, spec.shortName, spec.longName);
    if (!got.matched) continue;
    if (!got.value) return std::string(spec.longName) + " needs a value";
    if (!spec.set(*got.value)) {
      return "invalid value '" + *got.value + "' for " + spec.longName;
    }
    return "";
  }
  return std::nullopt;
}

bool isKind(const std::string& word, const char* singular) {
  return word == singular || word == std::string(singular) + "s";
}

// Checks the command words and which options they allow.
std::string checkCommand(const CtlOptions& o) {
  const auto& w = o.words;
  if (w.empty()) return "missing command";
  const std::string& verb = w[0];
  if (verb != "apply" && !o.file.empty()) return "-f is only for apply";
  if (verb != "apply" && o.replace) return "--replace is only for apply";
  if (verb != "changes" && o.since) return "--since is only for changes";
  if (verb == "get") {
    if (w.size() == 2 && (w[1] == "config" || isKind(w[1], "service") || isKind(w[1], "route")))
      return "";
    if (w.size() == 3 && (isKind(w[1], "service") || isKind(w[1], "route"))) return "";
    return "usage: get config | get services | get routes | get service NAME | get route ID";
  }
  if (verb == "delete") {
    if (w.size() == 3 && (isKind(w[1], "service") || isKind(w[1], "route"))) return "";
    return "usage: delete service NAME | delete route ID";
  }
  if (verb == "apply") {
    if (w.size() != 1) return "apply takes no operands: apply -f FILE";
    return o.file.empty() ? "apply needs -f FILE (or -f - for stdin)" : "";
  }
  if (verb == "changes") return w.size() == 1 ? "" : "changes takes no operands";
  return "unknown command '" + verb + "'";
}

}  // namespace

std::optional<std::string> processEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

ParseResult parseArgs(const std::vector<std::string>& args, const EnvLookup& env) {
  ParseResult result;
  CtlOptions& o = result.options;
  // The environment gives defaults; options given on the command line win.
  if (auto admin = env("TURNOUT_ADMIN"); admin && !admin->empty()) o.admin = *admin;
  if (auto token = env("TURNOUT_ADMIN_TOKEN")) o.token = *token;
  bool only_words = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_words || arg == "-" || arg.empty() || arg[0] != '-') {
      o.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_words = true;  // lets a name start with '-'
      continue;
    }
    std::optional<std::string> error = parseOption(args, i, o);
    if (!error) error = "unknown option '" + arg + "'";
    if (!error->empty()) {
      result.error = *error;
      return result;
    }
  }
  if (!o.help) result.error = checkCommand(o);
  return result;
}

std::string usageText() {
  return R"(usage: turnout ctl [--admin HOST:PORT] [--token T] [-o table|json] COMMAND

commands:
  get config                 the whole configuration (GET /v1/config)
  get services | get routes  tables of every service / route
  get service NAME           one service (readable YAML, or JSON with -o json)
  get route ID               one route
  apply -f FILE              create or replace what FILE holds (YAML or JSON; - is stdin):
                             a whole configuration (its services, then its routes, one by
                             one; objects not in the file are kept), one service, one route,
                             or a list of them
  apply --replace -f FILE    replace the whole configuration with FILE (PUT /v1/config)
  delete service NAME        delete a service
  delete route ID            delete a route
  changes [--since REV]      the change log after revision REV

options:
  --admin HOST:PORT   admin API address (default $TURNOUT_ADMIN or 127.0.0.1:9901)
  --token T           bearer token (default $TURNOUT_ADMIN_TOKEN)
  -o, --output FMT    table (default) or json
  --timeout SECONDS   per request (default 10)
  -h, --help          this text

exit status: 0 success, 1 error (printed on stderr), 2 bad usage
)";
}

}  // namespace turnout::ctl
