// `get config | services | routes | service NAME | route ID`.
#include "ctl/commands.h"
#include "ctl/render.h"
#include "ctl/yaml_out.h"

namespace turnout::ctl {

namespace {

using nlohmann::json;

void writeObject(const CommandContext& ctx, const json& object) {
  if (ctx.options.output == Output::kJson) {
    ctx.out << object.dump(2) << '\n';
  } else {
    writeYaml(ctx.out, object);
  }
}

int getConfig(const CommandContext& ctx) {
  ApiAnswer answer;
  ErrorLines error;
  if (!ctx.api.call("GET", "/v1/config", nullptr, answer, error)) {
    return printError(ctx.err, error);
  }
  writeObject(ctx, answer.body);
  return 0;
}

int getOne(const CommandContext& ctx, const std::string& collection, const std::string& name) {
  ApiAnswer answer;
  ErrorLines error;
  if (!ctx.api.call("GET", objectPath(collection, name), nullptr, answer, error)) {
    return printError(ctx.err, error);
  }
  writeObject(ctx, answer.body);
  return 0;
}

int getAll(const CommandContext& ctx, const std::string& collection) {
  json items;
  long long revision = -1;
  ErrorLines error;
  if (!ctx.api.list(collection, items, revision, error)) return printError(ctx.err, error);
  if (ctx.options.output == Output::kJson) {
    // One document for all pages, shaped like a page without the paging fields.
    json all = {{"revision", revision}, {collection, items}};
    ctx.out << all.dump(2) << '\n';
  } else if (collection == "services") {
    writeServicesTable(ctx.out, items);
  } else {
    writeRoutesTable(ctx.out, items);
  }
  return 0;
}

}  // namespace

int runGet(const CommandContext& ctx) {
  const auto& words = ctx.options.words;
  if (words[1] == "config") return getConfig(ctx);
  std::string collection = std::string(singularKind(words[1])) + "s";
  if (words.size() == 3) return getOne(ctx, collection, words[2]);
  return getAll(ctx, collection);
}

}  // namespace turnout::ctl
