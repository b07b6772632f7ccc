// `delete service NAME`, `delete route ID`.
#include "ctl/commands.h"

namespace turnout::ctl {

int runDelete(const CommandContext& ctx) {
  std::string kind = singularKind(ctx.options.words[1]);
  const std::string& name = ctx.options.words[2];
  ApiAnswer answer;
  ErrorLines error;
  if (!ctx.api.call("DELETE", objectPath(kind + "s", name), nullptr, answer, error)) {
    return printError(ctx.err, error, kind + "/" + name);
  }
  if (ctx.options.output == Output::kJson) {
    ctx.out << nlohmann::json{{"kind", kind},
                              {"name", name},
                              {"result", "deleted"},
                              {"revision", answer.revision}}
                   .dump()
            << '\n';
  } else {
    ctx.out << kind << "/" << name << " deleted (revision " << answer.revision << ")\n";
  }
  return 0;
}

}  // namespace turnout::ctl
