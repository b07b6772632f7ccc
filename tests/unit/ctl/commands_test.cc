#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "ctl/admin_api.h"
#include "ctl/commands.h"
#include "fake_admin.h"

namespace turnout::ctl {
namespace {

using fake::FakeAdmin;
using nlohmann::json;

TEST(CtlApiError, ServerErrorBody) {
  ErrorLines lines = formatApiError(
      400, R"({"error":{"code":400,"message":"unknown service 'x'","field":"split[0].service"},
               "errors":[{"field":"split[0].service","message":"unknown service 'x'"},
                         {"field":"timeout_ms","message":"must be positive"}]})");
  EXPECT_EQ(lines, (ErrorLines{"split[0].service: unknown service 'x' (400)",
                               "timeout_ms: must be positive"}));
  EXPECT_EQ(formatApiError(404, R"({"error":{"code":404,"message":"no route 'r'"}})"),
            (ErrorLines{"no route 'r' (404)"}));
}

TEST(CtlApiError, NotJson) {
  EXPECT_EQ(formatApiError(502, "Bad Gateway\r\nmore"), (ErrorLines{"HTTP 502: Bad Gateway"}));
  EXPECT_EQ(formatApiError(500, ""), (ErrorLines{"HTTP 500"}));
  EXPECT_EQ(formatApiError(401, ""),
            (ErrorLines{"HTTP 401: unauthorized: set --token or TURNOUT_ADMIN_TOKEN"}));
}

TEST(CtlApi, ObjectPathEncodes) {
  EXPECT_EQ(objectPath("services", "a b/c"), "/v1/services/a%20b%2Fc");
}

// Runs one command against `server` and captures its output.
struct CtlRun {
  int status;
  std::string out;
  std::string err;
};

CtlRun run(const FakeAdmin& server, std::vector<std::string> args) {
  args.insert(args.end(), {"--admin", server.address()});
  ParseResult parsed = parseArgs(args, [](const char*) { return std::nullopt; });
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  AdminApi api(parsed.options);
  std::ostringstream out, err;
  CommandContext ctx{parsed.options, api, out, err};
  const std::string& verb = parsed.options.words[0];
  int status = verb == "get"      ? runGet(ctx)
               : verb == "apply"  ? runApply(ctx)
               : verb == "delete" ? runDelete(ctx)
                                  : runChanges(ctx);
  return {status, out.str(), err.str()};
}

std::string requestLine(const std::string& request) {
  return request.substr(0, request.find("\r\n"));
}

TEST(CtlCommands, GetServicesFollowsPages) {
  FakeAdmin server([](const std::string& request) {
    bool first = request.find("offset=0 ") != std::string::npos;
    json page = first ? json::parse(R"({"revision":4,"total":2,"offset":0,"limit":1,"next_offset":1,
                                        "services":[{"name":"a","lb":"random","endpoints":[]}]})")
                      : json::parse(R"({"revision":4,"total":2,"offset":1,"limit":1,
                                        "services":[{"name":"b","lb":"maglev","endpoints":[
                                          {"address":"x:1","version":"v1"}]}]})");
    return FakeAdmin::answer(200, page.dump());
  });
  CtlRun r = run(server, {"get", "services"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME   LB       ENDPOINTS   VERSIONS\n"
            "a      random   0           -\n"
            "b      maglev   1           v1\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requestLine(requests[0]), "GET /v1/services?limit=1000&offset=0 HTTP/1.1");
  EXPECT_EQ(requestLine(requests[1]), "GET /v1/services?limit=1000&offset=1 HTTP/1.1");

  CtlRun j = run(server, {"get", "services", "-o", "json"});
  json all = json::parse(j.out);
  EXPECT_EQ(all["revision"], 4);
  EXPECT_EQ(all["services"].size(), 2u);
}

TEST(CtlCommands, GetOneAsYaml) {
  FakeAdmin server([](const std::string&) {
    return FakeAdmin::answer(200, R"({"id":"r 1","priority":0,"split":[{"service":"a"}]})");
  });
  CtlRun r = run(server, {"get", "route", "r 1"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "id: r 1\npriority: 0\nsplit:\n- service: a\n");
  EXPECT_EQ(requestLine(server.requests()[0]), "GET /v1/routes/r%201 HTTP/1.1");
}

std::string writeTemp(const std::string& text) {
  char path[] = "/tmp/ctl-test-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(CtlCommands, ApplyConfigPutsServicesThenRoutes) {
  FakeAdmin server([](const std::string& request) {
    bool route = request.find("/v1/routes/") != std::string::npos;
    return route ? FakeAdmin::answer(201, R"({"revision":9})")
                 : FakeAdmin::answer(200, R"({"revision":8})");
  });
  std::string file = writeTemp(
      "listeners: []\nroutes:\n  - id: r1\n    split: [{service: web}]\n"
      "services:\n  - name: web\n    endpoints: [{address: \"127.0.0.1:1\", version: 2}]\n");
  CtlRun r = run(server, {"apply", "-f", file});
  std::remove(file.c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "service/web configured (revision 8)\nroute/r1 created (revision 9)\n");
  EXPECT_NE(r.err.find("listeners"), std::string::npos);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requestLine(requests[0]), "PUT /v1/services/web HTTP/1.1");
  EXPECT_NE(requests[0].find("Content-Type: application/json"), std::string::npos);
  json body = json::parse(requests[0].substr(requests[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(body["endpoints"][0]["version"], "2");
}

TEST(CtlCommands, ApplyStopsAtTheFirstRefusal) {
  FakeAdmin server([](const std::string&) {
    return FakeAdmin::answer(
        400,
        R"({"error":{"code":400,"message":"unknown service 'x'","field":"split[0].service"}})");
  });
  std::string file = writeTemp(R"([{"id":"a","split":[]},{"id":"b","split":[]}])");
  CtlRun r = run(server, {"apply", "-f", file});
  std::remove(file.c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: route/a: split[0].service: unknown service 'x' (400)\n");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(CtlCommands, ApplyReplace) {
  FakeAdmin server([](const std::string&) { return FakeAdmin::answer(200, R"({"revision":3})"); });
  std::string file = writeTemp("services: []\nroutes: []\n");
  CtlRun r = run(server, {"apply", "--replace", "-f", file});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "configuration replaced (revision 3)\n");
  EXPECT_EQ(requestLine(server.requests()[0]), "PUT /v1/config HTTP/1.1");
  std::ofstream(file) << "name: web\nendpoints: []\n";
  CtlRun single = run(server, {"apply", "--replace", "-f", file});
  std::remove(file.c_str());
  EXPECT_EQ(single.status, 1);
  EXPECT_EQ(server.requests().size(), 1u);
}

// paralarva's `proxy:` and `fallback:` are read by the server from the whole document: apply
// without --replace refuses them rather than losing them; --replace sends them as they are.
TEST(CtlCommands, WholeDocumentsApplyOnlyWithReplace) {
  FakeAdmin server([](const std::string&) { return FakeAdmin::answer(200, R"({"revision":4})"); });
  for (const char* text :
       {"proxy:\n  listen: {address: \"127.0.0.1\", port: 8080}\n  services: []\n",
        "services: []\nfallback: \"127.0.0.1:9\"\n"}) {
    std::string file = writeTemp(text);
    CtlRun refused = run(server, {"apply", "-f", file});
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.err.find("--replace"), std::string::npos) << refused.err;
    CtlRun replaced = run(server, {"apply", "--replace", "-f", file});
    std::remove(file.c_str());
    EXPECT_EQ(replaced.status, 0) << replaced.err;
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requestLine(requests[0]), "PUT /v1/config HTTP/1.1");
  EXPECT_NE(requests[0].find("\"proxy\""), std::string::npos);
  EXPECT_NE(requests[1].find("\"fallback\""), std::string::npos);
}

TEST(CtlCommands, ApplyUnreadableFile) {
  FakeAdmin server([](const std::string&) { return FakeAdmin::answer(200, "{}"); });
  CtlRun r = run(server, {"apply", "-f", "/nonexistent/x.yaml"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot read /nonexistent/x.yaml"), std::string::npos);
  EXPECT_TRUE(server.requests().empty());
}

TEST(CtlCommands, DeleteAndChanges) {
  FakeAdmin server([](const std::string& request) {
    if (request.rfind("DELETE", 0) == 0) {
      return FakeAdmin::answer(409, R"({"error":{"code":409,"message":"used by routes: r1"}})");
    }
    return FakeAdmin::answer(200, R"({"revision":2,"truncated":true,"changes":[
        {"revision":2,"time_ms":0,"kind":"upsert_service","name":"web","source":"api","object":{}}]})");
  });
  CtlRun d = run(server, {"delete", "service", "web"});
  EXPECT_EQ(d.status, 1);
  EXPECT_EQ(d.err, "error: service/web: used by routes: r1 (409)\n");
  CtlRun c = run(server, {"changes", "--since", "1"});
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(c.out,
            "REVISION   TIME                       KIND             NAME   SOURCE\n"
            "2          1970-01-01T00:00:00.000Z   upsert_service   web    api\n");
  EXPECT_NE(c.err.find("no longer in the log"), std::string::npos);
  EXPECT_EQ(requestLine(server.requests()[1]), "GET /v1/changes?since=1 HTTP/1.1");
}

}  // namespace
}  // namespace turnout::ctl
