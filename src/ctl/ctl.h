// `turnout ctl`: a command-line client of the admin API v1 (docs/admin-api.md). It uses only
// the public HTTP API and the bearer token, so it works against any reachable turnout.
#pragma once

namespace turnout::ctl {

// Runs `turnout ctl ...`. argv[0] is the word "ctl" (or any program name: it is skipped);
// the command starts at argv[1], e.g. {"ctl", "get", "services"}. Writes results to stdout
// and errors to stderr. Returns the exit code: 0 success, 1 error (the server refused, the
// file is invalid, the admin API is unreachable), 2 bad usage.
int runCtl(int argc, char** argv);

}  // namespace turnout::ctl
