// `changes [--since REV]`: the change log, oldest first.
#include "ctl/commands.h"
#include "ctl/render.h"

namespace turnout::ctl {

int runChanges(const CommandContext& ctx) {
  nlohmann::json items;
  long long revision = -1;
  bool truncated = false;
  ErrorLines error;
  if (!ctx.api.changes(ctx.options.since.value_or(0), items, revision, truncated, error)) {
    return printError(ctx.err, error);
  }
  if (ctx.options.output == Output::kJson) {
    nlohmann::json all = {{"revision", revision}, {"truncated", truncated}, {"changes", items}};
    ctx.out << all.dump(2) << '\n';
    return 0;
  }
  // The server keeps a bounded log: say so rather than let a gap look like history.
  if (truncated) ctx.err << "note: older changes are no longer in the log\n";
  writeChangesTable(ctx.out, items);
  return 0;
}

}  // namespace turnout::ctl
