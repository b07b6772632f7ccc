// The commands of `turnout ctl`, one file each. Each returns the exit code (0 or 1) and
// writes results to `out`, errors and notes to `err`.
#pragma once

#include <ostream>

#include "ctl/admin_api.h"
#include "ctl/args.h"

namespace turnout::ctl {

struct CommandContext {
  const CtlOptions& options;
  const AdminApi& api;
  std::ostream& out;
  std::ostream& err;
};

int runGet(const CommandContext& ctx);
int runApply(const CommandContext& ctx);
int runDelete(const CommandContext& ctx);
int runChanges(const CommandContext& ctx);

// Prints "error: [CONTEXT: ]LINE" for each line; returns 1.
int printError(std::ostream& err, const ErrorLines& lines, const std::string& context = "");

// "service" or "route" from "service", "services", "route" or "routes".
const char* singularKind(const std::string& word);

}  // namespace turnout::ctl
