// The commands of the turnout binary, each returning the process exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace turnout::app {

struct RunOptions {
  std::string config_file;  // --config / -f
  std::string data_dir = "turnout-data";
  std::vector<std::string> listens;  // --listen (repeatable); default from config or 127.0.0.1:8080
  std::string admin = "127.0.0.1:9901";
  uint32_t workers = 0;         // 0 = one per core
  std::vector<std::string> to;  // --to quick mode upstreams
  std::string identity;         // --identity NAME:VERSION
  uint32_t max_active_faults = 1000;
  uint64_t max_request_body = 0;  // --max-request-body BYTES (0: no limit)
  std::string log_level = "info";
  std::string access_log;                      // --access-log FILE or -
  std::vector<std::string> access_log_fields;  // --access-log-fields a,b,c (default: all)
  double access_log_sample = 1.0;              // --access-log-sample SHARE in (0, 1]
  std::string admin_token;
  bool admin_insecure = false;  // allow a non-loopback admin address without a token
  std::string fallback;         // --fallback HOST:PORT
  std::vector<std::string> listen_h2c;
  int metrics_port = 0;                  // -p
  std::vector<std::string> dns_servers;  // --dns-server: resolvers for DNS-named backends
  std::string management_host;    // --management-host: /entries.json through the data listener
  bool next_free_port = false;    // -n
  bool dry_run = false;           // -d
  bool all_addresses = false;     // -a
  double upstream_timeout_s = 0;  // -t (0 = route default)
  double drain_timeout_s = 15;    // --drain-timeout
};

int runProxy(const RunOptions& options);
int checkConfig(const std::string& config_file);

}  // namespace turnout::app
