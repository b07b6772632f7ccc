#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "admin/admin_server.h"
#include "admin/api.h"
#include "admin/metrics_endpoint.h"
#include "app/app.h"
#include "config/identity.h"
#include "config/load.h"
#include "control/control_plane.h"
#include "core/log.h"
#include "dns/resolver.h"
#include "health/health_service.h"
#include "observe/access_log.h"
#include "proxy/server.h"
#include "route/snapshot.h"
#include "store/store.h"

namespace turnout::app {
namespace {

constexpr const char* kQuickRouteId = "turnout-to";
constexpr const char* kFallbackRouteId = "turnout-fallback";
constexpr const char* kManagementId = "turnout-management";

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
  route.split.push_back({id, "", 1, {}});
  if (timeout_ms > 0) route.timeout_ms = timeout_ms;
  config.services.push_back(std::move(service));
  config.routes.push_back(std::move(route));
}

// --management-host NAME: the entries API (and nothing else of the admin API) through the data
// listener for Host NAME, as ngx_http_set_backend served it; the admin listener does the work
// (and checks the token), the data plane only forwards to it.
void addManagementRoutes(config::Config& overlay, const std::string& host,
                         const std::string& admin_address) {
  config::Service admin;
  admin.name = kManagementId;
  admin.endpoints.push_back({admin_address, "", 1});
  overlay.services.push_back(admin);
  auto route = [&](const std::string& suffix, config::RouteMatch match) {
    config::Route r;
    r.id = std::string(kManagementId) + suffix;
    r.priority = INT32_MAX;
    r.match = std::move(match);
    r.match.host = host;
    r.split.push_back({kManagementId, "", 1, {}});
    return r;
  };
  config::RouteMatch index;
  index.path = "/entries.json";
  config::RouteMatch one;
  one.path_prefix = "/entries/";
  overlay.routes.push_back(route("-index", index));
  overlay.routes.push_back(route("-entry", one));
  config::Route rest = route("-other", {});
  rest.split.clear();
  rest.priority = INT32_MAX - 1;
  rest.direct_response = {404, "only /entries.json is served for the management host"};
  overlay.routes.push_back(rest);
}

// The address to reach a listener bound on `bound` from this host: a wildcard becomes loopback.
std::string reachable(const std::string& bound) {
  const size_t colon = bound.rfind(':');
  const std::string host = bound.substr(0, colon);
  if (host == "0.0.0.0") return "127.0.0.1" + bound.substr(colon);
  if (host == "[::]") return "[::1]" + bound.substr(colon);
  return bound;
}

// -p PORT: the metrics listener, on the data listener's host (so -a exposes it too).
std::string metricsAddress(const std::string& data_address, int port) {
  const size_t colon = data_address.rfind(':');
  return data_address.substr(0, colon) + ":" + std::to_string(port);
}

// The configured listener an address comes from ("" for --listen addresses of its own).
std::string listenerNameOf(const std::vector<config::Listener>& listeners,
                           const std::string& address) {
  for (const auto& listener : listeners) {
    if (listener.address == address) return listener.name;
  }
  return "";
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

// Reads the configuration file (if any) into `file` and its digest, and builds the overlay of
// catch-all routes the command line asks for. False after printing the errors.
bool readConfiguration(const RunOptions& options, std::optional<config::Config>& file,
                       std::string& digest, config::Config& overlay) {
  if (!options.config_file.empty()) {
    std::ifstream in(options.config_file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    config::Config parsed;
    const auto errors = config::loadFile(options.config_file, parsed);
    for (const auto& error : errors) fail(config::formatError(options.config_file, error));
    if (!errors.empty()) return false;
    file = std::move(parsed);
    digest = control::digestOf(text);
  }
  const uint32_t timeout_ms = static_cast<uint32_t>(options.upstream_timeout_s * 1000);
  const auto to = splitList(options.to);
  if (!to.empty()) addCatchAll(overlay, kQuickRouteId, to, INT32_MIN + 1, timeout_ms);
  if (!options.fallback.empty()) {
    addCatchAll(overlay, kFallbackRouteId, {options.fallback}, INT32_MIN, timeout_ms);
  }
  const auto errors = config::validate(overlay);
  for (const auto& error : errors) fail(config::formatError("command line", error));
  return errors.empty();
}

bool isLoopback(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string host = address.substr(0, colon == std::string::npos ? address.size() : colon);
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// --identity, else $TURNOUT_IDENTITY, else Amalgam8's $A8_SERVICE; "" = no identity.
bool resolveIdentity(const RunOptions& options, config::Identity& out) {
  std::string text = options.identity;
  for (const char* name : {"TURNOUT_IDENTITY", "A8_SERVICE"}) {
    const char* value = std::getenv(name);
    if (text.empty() && value != nullptr) text = value;
  }
  if (text.empty()) return true;
  std::vector<config::Error> errors = config::checkIdentity(text);
  if (!errors.empty()) {
    fail("--identity '" + text + "': " + errors.front().message);
    return false;
  }
  out = config::Identity::parse(text);
  return true;
}

}  // namespace

int runProxy(const RunOptions& options) {
  const auto started_at = std::chrono::system_clock::now();
  core::LogLevel level;
  if (!core::parseLogLevel(options.log_level, level)) {
    fail("unknown log level '" + options.log_level + "' (debug, info, warn, error, off)");
    return 2;
  }
  core::setLogLevel(level);

  std::optional<config::Config> file;
  std::string digest;
  config::Config overlay;
  if (!readConfiguration(options, file, digest, overlay)) return 1;
  if (!options.admin_insecure && options.admin_token.empty() && !isLoopback(options.admin)) {
    fail("refusing to serve the admin API on " + options.admin +
         " without --admin-token (or TURNOUT_ADMIN_TOKEN); --admin-insecure overrides");
    return 1;
  }
  const uint32_t workers =
      options.workers > 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    fail("cannot create data directory " + options.data_dir + ": " + ec.message());
    return 1;
  }
  std::string error;
  const std::string db_path = (std::filesystem::path(options.data_dir) / "turnout.db").string();
  auto store = store::openSqliteStore(db_path, error);
  if (!store) {
    fail("cannot open the store " + db_path + ": " + error);
    return 1;
  }
  if (!options.management_host.empty() && options.admin_token.empty()) {
    fail("--management-host exposes the entries API on the data listener: it needs --admin-token");
    return 1;
  }
  admin::AdminServer admin;
  if (!admin.bind(options.admin, error)) {
    fail("cannot listen on admin address " + error);
    return 1;
  }
  if (!options.management_host.empty()) {
    addManagementRoutes(overlay, options.management_host, reachable(admin.boundAddress()));
  }
  config::Identity identity;
  if (!resolveIdentity(options, identity)) return 2;
  dns::ResolverOptions dns_options;
  dns_options.servers = splitList(options.dns_servers);
  dns::Resolver resolver(dns_options);
  if (!resolver.start(error)) {
    fail("--dns-server: " + error);
    return 2;
  }
  control::ControlPlane control(std::move(store), workers, identity, &resolver);
  if (!control.boot(file ? &*file : nullptr, digest, overlay, error)) {
    fail(error);
    return 1;
  }
  const std::vector<config::Listener> file_listeners =
      file ? file->listeners : control.storedConfig().listeners;

  std::vector<proxy::ListenSpec> listens;
  std::vector<std::string> addresses = options.listens;
  if (addresses.empty()) {
    for (const auto& listener : file_listeners) addresses.push_back(listener.address);
  }
  if (addresses.empty()) addresses.push_back("127.0.0.1:8080");
  std::vector<std::string> listener_names;
  for (auto& address : addresses) {
    listens.push_back(
        {options.all_addresses ? allAddresses(address) : address, options.next_free_port});
    listener_names.push_back(listenerNameOf(file_listeners, address));
  }

  // Signals are taken by sigwait() on the main thread only; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<observe::AccessLog> access_log;
  if (!options.access_log.empty()) {
    observe::AccessLogOptions log_options;
    log_options.path = options.access_log;
    log_options.fields = options.access_log_fields;
    log_options.sample = options.access_log_sample;
    access_log = observe::AccessLog::open(log_options, workers, error);
    if (!access_log) {
      fail("--access-log: " + error);
      return 2;
    }
  }

  // Declared before the server, so it outlives the workers that send it ejection requests.
  health::HealthService health;
  proxy::ProxySettings settings;
  settings.access_log = access_log.get();
  settings.health = &health;
  settings.identity = identity.text();
  settings.dry_run = options.dry_run;
  settings.max_active_faults = options.max_active_faults;
  settings.max_request_body_bytes = options.max_request_body;
  settings.listener_names = std::move(listener_names);
  if (options.upstream_timeout_s > 0) {
    settings.connect_timeout_ms = static_cast<uint32_t>(options.upstream_timeout_s * 1000);
  }
  proxy::Server server(settings, workers);
  if (!server.bind(listens, error)) {
    fail(error);
    return 1;
  }
  admin::AdminServer metrics;
  if (options.metrics_port > 0) {
    const std::string address =
        metricsAddress(server.boundAddresses().front(), options.metrics_port);
    if (!metrics.bind(address, error)) {
      fail("cannot listen on metrics address " + error);
      return 1;
    }
  }
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  const auto snapshot = control.current();
  server.start(snapshot);
  health.start();
  health.update(snapshot);
  // Checks follow what the workers run: each publication goes to the health thread too (it
  // only queues there; the answer to the writer does not wait for it).
  control.setPublisher([&server, &health](std::shared_ptr<const route::Snapshot> next) {
    const bool propagated = server.publish(next);
    health.update(std::move(next));
    return propagated;
  });
  admin::ApiOptions api_options;
  api_options.token = options.admin_token;
  api_options.ready = [&ready] { return ready.load(); };
  api_options.draining = [&draining] { return draining.load(); };
  api_options.workers = workers;
  api_options.started_at = started_at;
  api_options.worker_metrics = server.metrics();
  api_options.access_log = access_log.get();
  api_options.health = &health;
  admin::AdminApi api(control, api_options);
  admin.start([&api](const admin::AdminRequest& request) { return api.handle(request); });
  if (options.metrics_port > 0) {
    metrics.start([&control, &api_options](const admin::AdminRequest& request) {
      return admin::serveMetricsOnly(control, api_options, request);
    });
  }
  // Every worker installed the snapshot before its thread started (Server::start).
  ready = true;
  const std::string metrics_field =
      options.metrics_port > 0 ? ",\"metrics\":\"" + metrics.boundAddress() + "\"" : "";
  std::printf("{\"event\":\"listening\",\"data\":%s,\"admin\":\"%s\"%s}\n",
              jsonList(server.boundAddresses()).c_str(), admin.boundAddress().c_str(),
              metrics_field.c_str());
  std::fflush(stdout);
  core::logLine(core::LogLevel::kInfo, "turnout running with " + std::to_string(workers) +
                                           " workers, revision " +
                                           std::to_string(snapshot->revision()));

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {  // logrotate moved the access log away: write to a new file
      if (access_log) access_log->reopen();
      continue;
    }
    break;
  }
  core::logLine(core::LogLevel::kInfo,
                "draining: no new connections, finishing requests in flight");
  draining = true;
  server.drain(std::chrono::milliseconds(static_cast<int64_t>(options.drain_timeout_s * 1000)));
  admin.stop();
  metrics.stop();
  resolver.stop();  // its callbacks reach the control plane, which goes first
  health.stop();
  core::logLine(core::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace turnout::app