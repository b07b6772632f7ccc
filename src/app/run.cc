#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "admin/admin_server.h"
#include "app/app.h"
#include "config/load.h"
#include "core/log.h"
#include "proxy/server.h"
#include "route/snapshot.h"

namespace turnout::app {
namespace {

constexpr const char* kQuickRouteId = "turnout-to";
constexpr const char* kFallbackRouteId = "turnout-fallback";

void fail(const std::string& message) { std::fprintf(stderr, "turnout: %s\n", message.c_str()); }

// `--to a,b` and `--fallback x` become ordinary services and catch-all routes at the lowest
// priorities, so they never shadow a route of the configuration.
void addCatchAll(config::Config& config, const std::string& id, const std::vector<std::string>& to,
                 int32_t priority, uint32_t timeout_ms) {
  config::Service service;
  service.name = id;
  for (const auto& address : to) service.endpoints.push_back({address, "", 1});
  config::Route route;
  route.id = id;
  route.priority = priority;
  route.split.push_back({id, "", 1});
  if (timeout_ms > 0) route.timeout_ms = timeout_ms;
  config.services.push_back(std::move(service));
  config.routes.push_back(std::move(route));
}

std::vector<std::string> splitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (comma > start) out.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

std::string allAddresses(const std::string& address) {
  const size_t colon = address.rfind(':');
  return "0.0.0.0:" + (colon == std::string::npos ? address : address.substr(colon + 1));
}

std::string jsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "]";
}

bool loadConfiguration(const RunOptions& options, config::Config& config) {
  if (!options.config_file.empty()) {
    const auto errors = config::loadFile(options.config_file, config);
    for (const auto& error : errors) fail(config::formatError(options.config_file, error));
    if (!errors.empty()) return false;
  }
  const uint32_t timeout_ms = static_cast<uint32_t>(options.upstream_timeout_s * 1000);
  const auto to = splitList(options.to);
  if (!to.empty()) addCatchAll(config, kQuickRouteId, to, INT32_MIN + 1, timeout_ms);
  if (!options.fallback.empty()) {
    addCatchAll(config, kFallbackRouteId, {options.fallback}, INT32_MIN, timeout_ms);
  }
  const auto errors = config::validate(config);
  for (const auto& error : errors) fail(config::formatError("command line", error));
  return errors.empty();
}

admin::AdminResponse handleAdmin(const admin::AdminRequest& request, const std::atomic<bool>& ready,
                                 uint64_t revision) {
  admin::AdminResponse response;
  if (request.path == "/healthz") {
    response.body = "{\"status\":\"ok\"}\n";
  } else if (request.path == "/readyz") {
    response.status = ready ? 200 : 503;
    response.body = ready ? "{\"status\":\"ready\",\"revision\":" + std::to_string(revision) + "}\n"
                          : "{\"status\":\"starting\"}\n";
  } else {
    response.status = 404;
    response.body = "{\"error\":{\"code\":404,\"message\":\"no such admin path: " + request.path +
                    "\",\"field\":\"\"}}\n";
  }
  return response;
}

}  // namespace

int runProxy(const RunOptions& options) {
  core::LogLevel level;
  if (!core::parseLogLevel(options.log_level, level)) {
    fail("unknown log level '" + options.log_level + "' (debug, info, warn, error, off)");
    return 2;
  }
  core::setLogLevel(level);

  config::Config config;
  if (!loadConfiguration(options, config)) return 1;
  const uint32_t workers =
      options.workers > 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
  route::Compiler compiler(workers);
  route::Change change;
  change.kind = route::Change::Kind::kReplaceAll;
  change.all = config;
  std::vector<config::Error> errors;
  auto snapshot = compiler.apply(nullptr, change, errors);
  if (!snapshot) {
    for (const auto& error : errors) fail(config::formatError("configuration", error));
    return 1;
  }

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    fail("cannot create data directory " + options.data_dir + ": " + ec.message());
    return 1;
  }

  std::vector<proxy::ListenSpec> listens;
  std::vector<std::string> addresses = options.listens;
  if (addresses.empty()) {
    for (const auto& listener : config.listeners) addresses.push_back(listener.address);
  }
  if (addresses.empty()) addresses.push_back("127.0.0.1:8080");
  for (auto& address : addresses) {
    listens.push_back(
        {options.all_addresses ? allAddresses(address) : address, options.next_free_port});
  }

  // Signals are taken by sigwait() on the main thread only; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  proxy::ProxySettings settings;
  settings.dry_run = options.dry_run;
  if (options.upstream_timeout_s > 0) {
    settings.connect_timeout_ms = static_cast<uint32_t>(options.upstream_timeout_s * 1000);
  }
  proxy::Server server(settings, workers);
  admin::AdminServer admin;
  std::string error;
  if (!admin.bind(options.admin, error)) {
    fail("cannot listen on admin address " + error);
    return 1;
  }
  if (!server.bind(listens, error)) {
    fail(error);
    return 1;
  }
  std::atomic<bool> ready{false};
  const uint64_t revision = snapshot->revision();
  server.start(snapshot);
  admin.start([&ready, revision](const admin::AdminRequest& request) {
    return handleAdmin(request, ready, revision);
  });
  server.publish(snapshot);  // returns once every worker runs it
  ready = true;
  std::printf("{\"event\":\"listening\",\"data\":%s,\"admin\":\"%s\"}\n",
              jsonList(server.boundAddresses()).c_str(), admin.boundAddress().c_str());
  std::fflush(stdout);
  core::logLine(core::LogLevel::kInfo, "turnout running with " + std::to_string(workers) +
                                           " workers, revision " + std::to_string(revision));

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) continue;  // log reopening arrives with the access log
    break;
  }
  core::logLine(core::LogLevel::kInfo,
                "draining: no new connections, finishing requests in flight");
  ready = false;
  server.drain(std::chrono::milliseconds(static_cast<int64_t>(options.drain_timeout_s * 1000)));
  admin.stop();
  core::logLine(core::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace turnout::app
