// turnout: a dynamic L7 reverse proxy. This file only reads the command line (DESIGN §1).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/app.h"
#include "ctl/ctl.h"

namespace {

void addRunOptions(CLI::App& run, turnout::app::RunOptions& o) {
  run.add_option("-f,--config", o.config_file, "configuration file (YAML or JSON)");
  run.add_option("--data-dir", o.data_dir, "directory of the embedded store")
      ->capture_default_str();
  run.add_option("--listen", o.listens, "data listener ADDR:PORT (repeatable)");
  run.add_option("--admin", o.admin, "admin listener ADDR:PORT (port 0 picks one)")
      ->capture_default_str();
  run.add_option("--workers", o.workers, "worker threads (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  run.add_option("--to", o.to, "quick mode: route everything to HOST:PORT[,HOST:PORT...]");
  run.add_option("--identity", o.identity,
                 "the caller this proxy stands for, NAME:VERSION (else $TURNOUT_IDENTITY, "
                 "$A8_SERVICE)");
  run.add_option("--max-active-faults", o.max_active_faults,
                 "concurrent injected delays before faults are skipped")
      ->capture_default_str();
  run.add_option("-l,--log-level", o.log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  run.add_option("--access-log", o.access_log, "access log file, or - for stdout");
  run.add_option("--access-log-fields", o.access_log_fields,
                 "access log fields to write, in order (default: all)")
      ->delimiter(',');
  run.add_option("--access-log-sample", o.access_log_sample,
                 "share of requests logged, in (0, 1]; 5xx and dropped ones always are")
      ->capture_default_str();
  run.add_option("--admin-token", o.admin_token, "bearer token required by the admin API")
      ->envname("TURNOUT_ADMIN_TOKEN");
  run.add_flag("--admin-insecure", o.admin_insecure,
               "allow a non-loopback --admin address without a token");
  run.add_option("--fallback", o.fallback, "upstream HOST:PORT for requests no route matches");
  run.add_option("--listen-h2c", o.listen_h2c, "HTTP/2 cleartext listener ADDR:PORT");
  run.add_option("--max-request-body", o.max_request_body,
                 "largest request body in bytes, larger ones get 413 (0: no limit)")
      ->capture_default_str();
  run.add_option("--dns-server", o.dns_servers,
                 "DNS server IP[:PORT] for DNS-named backends (repeatable; default: "
                 "/etc/resolv.conf)");
  run.add_option("--management-host", o.management_host,
                 "also serve /entries.json through the data listener for this Host (needs "
                 "--admin-token)");
  run.add_option("-p,--metrics-port", o.metrics_port, "also serve /metrics on this port")
      ->check(CLI::Range(1, 65535));
  run.add_flag("-n,--next-free-port", o.next_free_port,
               "if a port is taken, use the next free one");
  run.add_flag("-d,--dry-run", o.dry_run, "answer 200 without contacting any upstream");
  run.add_flag("-a,--all-addresses", o.all_addresses, "listen on all addresses");
  run.add_option("-t,--upstream-timeout", o.upstream_timeout_s, "upstream timeout in seconds")
      ->check(CLI::PositiveNumber);
  run.add_option("--drain-timeout", o.drain_timeout_s,
                 "seconds to let requests in flight finish on SIGTERM")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

bool isSubcommandOrHelp(const char* arg) {
  for (const char* known : {"run", "check", "ctl", "-h", "--help", "--version"}) {
    if (std::strcmp(arg, known) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // `turnout ctl ...` has its own grammar (kubectl-like words); argv[0] becomes "ctl".
  if (argc >= 2 && std::strcmp(argv[1], "ctl") == 0) {
    return turnout::ctl::runCtl(argc - 1, argv + 1);
  }
  // `turnout` alone, or `turnout -f config.yaml` (paralarva's way), means `turnout run ...`.
  std::vector<char*> args(argv, argv + argc);
  static char run_word[] = "run";
  if (argc == 1 || !isSubcommandOrHelp(argv[1])) args.insert(args.begin() + 1, run_word);

  CLI::App app{"turnout: a dynamic L7 reverse proxy and service-mesh sidecar"};
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", "turnout 0.1.0");
  turnout::app::RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "run the proxy");
  addRunOptions(*run, run_options);
  std::string check_file;
  CLI::App* check = app.add_subcommand("check", "validate a configuration file");
  check->add_option("-f,--config", check_file, "configuration file")->required();
  app.add_subcommand("ctl", "admin API client: get, apply, delete, changes (see ctl --help)");

  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "turnout: %s\n\n%s", e.what(), app.help().c_str());
    return 2;
  }
  if (check->parsed()) return turnout::app::checkConfig(check_file);
  return turnout::app::runProxy(run_options);
}
