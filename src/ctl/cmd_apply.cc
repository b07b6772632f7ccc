// `apply -f FILE`: create or replace each service, then each route, with PUT, so objects
// that are not in the file are kept. `apply --replace -f FILE` replaces everything.
#include <utility>

#include "ctl/commands.h"
#include "ctl/document.h"

namespace turnout::ctl {

namespace {

using nlohmann::json;

bool loadDocuments(const CommandContext& ctx, std::vector<json>& docs) {
  const std::string& file = ctx.options.file;
  std::string text, why;
  if (!readInput(file, text, why)) {
    printError(ctx.err, {why});
    return false;
  }
  if (!parseDocuments(text, docs, why)) {
    printError(ctx.err, {why}, file == "-" ? "stdin" : file);
    return false;
  }
  return true;
}

int replaceAll(const CommandContext& ctx, const std::vector<json>& docs) {
  if (docs.size() != 1 || detectKind(docs[0]) != ObjectKind::kConfig) {
    return printError(ctx.err, {"--replace needs one whole configuration (listeners, services, "
                                "routes)"});
  }
  ApiAnswer answer;
  ErrorLines error;
  if (!ctx.api.call("PUT", "/v1/config", &docs[0], answer, error)) {
    return printError(ctx.err, error, "config");
  }
  if (ctx.options.output == Output::kJson) {
    ctx.out << json{{"result", "replaced"}, {"revision", answer.revision}}.dump() << '\n';
  } else {
    ctx.out << "configuration replaced (revision " << answer.revision << ")\n";
  }
  return 0;
}

void warnAboutListeners(const CommandContext& ctx, const std::vector<json>& docs) {
  for (const json& doc : docs) {
    if (doc.is_object() && doc.contains("listeners")) {
      ctx.err << "note: listeners are applied only with --replace; they were left as they are\n";
      return;
    }
  }
}

// PUT one object; prints its line. False (error printed) when the server refused it.
bool applyItem(const CommandContext& ctx, const ApplyItem& item, json& results) {
  std::string kind = item.kind == ObjectKind::kService ? "service" : "route";
  ApiAnswer answer;
  ErrorLines error;
  if (!ctx.api.call("PUT", objectPath(kind + "s", item.name), &item.body, answer, error)) {
    printError(ctx.err, error, kind + "/" + item.name);
    return false;
  }
  const char* result = answer.status == 201 ? "created" : "configured";
  if (ctx.options.output == Output::kJson) {
    results.push_back(
        {{"kind", kind}, {"name", item.name}, {"result", result}, {"revision", answer.revision}});
  } else {
    ctx.out << kind << "/" << item.name << " " << result << " (revision " << answer.revision
            << ")\n";
  }
  return true;
}

}  // namespace

int runApply(const CommandContext& ctx) {
  std::vector<json> docs;
  if (!loadDocuments(ctx, docs)) return 1;
  if (ctx.options.replace) return replaceAll(ctx, docs);
  std::vector<ApplyItem> items;
  std::string why;
  if (!collectItems(docs, items, why)) return printError(ctx.err, {why});
  if (items.empty()) return printError(ctx.err, {"no service or route to apply"});
  warnAboutListeners(ctx, docs);
  // Stop at the first refusal: later objects (routes) often depend on it, and what was
  // applied so far is already printed.
  json results = json::array();
  int status = 0;
  for (const ApplyItem& item : items) {
    if (!applyItem(ctx, item, results)) {
      status = 1;
      break;
    }
  }
  if (ctx.options.output == Output::kJson) ctx.out << results.dump(2) << '\n';
  return status;
}

}  // namespace turnout::ctl
