#include "ctl/ctl.h"

#include <iostream>
#include <string>
#include <vector>

#include "ctl/commands.h"

namespace turnout::ctl {

int printError(std::ostream& err, const ErrorLines& lines, const std::string& context) {
  for (const std::string& line : lines) {
    err << "error: " << (context.empty() ? "" : context + ": ") << line << '\n';
  }
  return 1;
}

const char* singularKind(const std::string& word) {
  return word.rfind("service", 0) == 0 ? "service" : "route";
}

namespace {

int dispatch(const CtlOptions& options) {
  AdminApi api(options);
  CommandContext ctx{options, api, std::cout, std::cerr};
  const std::string& verb = options.words[0];
  if (verb == "get") return runGet(ctx);
  if (verb == "apply") return runApply(ctx);
  if (verb == "delete") return runDelete(ctx);
  return runChanges(ctx);  // parseArgs admits no other verb
}

}  // namespace

int runCtl(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  ParseResult parsed = parseArgs(args);
  if (parsed.options.help) {
    std::cout << usageText();
    return 0;
  }
  if (!parsed.ok()) {
    std::cerr << "turnout ctl: " << parsed.error << "\n\n" << usageText();
    return 2;
  }
  int status = dispatch(parsed.options);
  std::cout.flush();
  return status;
}

}  // namespace turnout::ctl
