// One request and its response, proxied. The phases run top to bottom:
//   route -> pick version -> faults -> [pick endpoint -> forward head -> stream request body
//   -> response head] x attempts -> relay response body (or tunnel after a 101) -> finish.
// An attempt that fails before its response head, or answers a status the route retries, is
// made again on another endpoint after a back-off, while the route's retry rules, the
// service's retry budget and the route's timeout allow (exchange_retry.cc). Faults come before
// the attempts: an injected abort never reaches them and is never retried.
// An exchange talks to the client through ClientConnection and to the upstream through an
// UpstreamConnection borrowed from the worker's pool; routing and balancing come from the
// snapshot it leased when it started.
// Files: exchange.cc (the phases and failures), exchange_retry.cc (further attempts),
// exchange_breakers.cc (circuit-breaker and retry-budget admission), exchange_log.cc (the log phase
// and what each attempt reports).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/timer.h"
#include "http/h1_parser.h"
#include "http/message.h"
#include "proxy/worker.h"
#include "upstream/connection.h"

namespace turnout::proxy {

class ClientConnection;

class Exchange final : public upstream::UpstreamUser {
 public:
  // `head` is only valid during start(): everything needed later is copied.
  Exchange(ClientConnection& client, const http::RequestHead& head);
  ~Exchange() override;

  void start(const http::RequestHead& head);
  void onClientData();     // more bytes in client.in()
  void onClientDrained();  // the client's output queue emptied
  void onClientGone();     // the client connection ended under us

  // UpstreamUser
  void onUpstreamConnected() override;
  void onUpstreamReadable() override;
  void onUpstreamWritable() override;
  void onUpstreamError(int err) override;

 private:
  enum class Phase : uint8_t {
    kDelaying,    // an injected delay runs; nothing is upstream yet
    kBackingOff,  // waiting to try again; nothing is upstream
    kConnecting,
    kWaitingHead,
    kRelayingBody,
    kTunnel,
    kDone
  };

  // Phases, in request order.
  const route::CompiledRoute* routeRequest(const http::RequestHead& head);
  const route::CompiledTarget* pickVersion(const route::CompiledRoute& route,
                                           const http::RequestHead& head);
  bool bufferedBodyIsWellFormed();
  bool bodyOverLimit(uint64_t body_bytes) const;
  std::string bodyLimitReason() const;
  bool injectFaults(const route::CompiledRoute& route, const route::CompiledTarget& target,
                    const http::RequestHead& head);
  void endFaults();
  void stopDelaying();
  void proceedToUpstream();
  void attemptUpstream();  // pick an endpoint and forward: once per attempt
  void setUpstreamHost();
  // Circuit breakers: false (and a 503 sent) when the service is at one of its limits.
  bool admitToService();
  bool admitNewConnection();
  void overflow(upstream::Limit limit, uint32_t max);
  bool admitRetry();
  void stopPending();
  void releaseServiceLoad();
  const route::Endpoint* pickEndpoint(const route::EndpointSet& set);
  void observeUpstreamLatency(bool failed);
  void forward(bool fresh_connection = false);
  void pumpRequestBody();
  void armRequestTimer();
  uint64_t routeDeadlineMs();
  bool routeDeadlinePassed() const;
  void startAttemptClock();
  uint64_t attemptTimeLeftMs(uint64_t cap);
  bool writeUpstream(std::string_view body);
  bool writeClient(std::string_view body);
  void readResponse();
  bool handleResponseHead();
  void relayResponseBody();
  void startTunnel();
  void pumpTunnel();
  void finish();
  bool endpointStillConfigured() const;
  // The last phase, when the exchange is destroyed: metrics and the access log line.
  void logExchange();
  void writeAccessLog(uint64_t duration_us);

  // Failures.
  void failLocal(int status, std::string_view reason);
  void upstreamFailed(int status, std::string_view reason);
  bool retryOnFreshConnection();

  // Retries (exchange_retry.cc).
  void noteRetryRules(const route::CompiledRoute& route);
  // An attempt failed: tried again when it had no response head yet and the rules allow,
  // otherwise the client gets `status`.
  void attemptFailed(route::AttemptFailure failure, int status, std::string_view reason);
  bool retryResponse();  // true when a response head's status is retried instead of relayed
  bool retryAfter(observe::RetryReason reason);
  void retryNow();
  bool canReplay() const;
  void keepForReplay(std::string_view body);
  void onTimer();
  void routeTimedOut();
  void releaseUpstream(bool reusable);
  // Outlier detection: counts what the upstream attempt came to, once per exchange.
  void reportOutcome(health::UpstreamOutcome outcome);

  ClientConnection& client_;
  Worker& worker_;
  SnapshotLease snapshot_;
  core::Timer timer_;

  // What the request said, copied out of the head.
  std::string method_;
  std::string request_id_;
  int version_minor_ = 1;
  bool client_keep_alive_ = true;
  bool wants_json_ = false;
  bool wants_upgrade_ = false;
  bool expect_continue_ = false;
  std::string upstream_head_;  // kept until the response starts, to send again on a retry
  bool head_written_ = false;
  bool continue_sent_ = false;  // our "100 Continue" went to the client
  std::string client_head_;     // response head waiting to go out with the first body bytes
  uint32_t timeout_ms_ = 15000;

  // Request body.
  http::BodyFraming request_framing_ = http::BodyFraming::kNone;
  uint64_t request_remaining_ = 0;
  http::ChunkedScanner request_chunks_;
  bool request_done_ = false;
  bool request_body_started_ = false;

  // Version selection and faults.
  const route::EndpointSet* endpoints_ = nullptr;  // of the picked version, in the lease
  bool keep_client_host_ = false;  // the route keeps the client's Host for DNS-named backends
  std::optional<std::string> client_host_;  // set once a backend's name replaced it
  std::string response_lines_;              // sticky cookie line(s) for the response head
  bool delaying_ = false;                   // counted in faultCounters().active_delays
  uint32_t pending_abort_status_ = 0;
  bool pending_drop_ = false;
  std::string fault_trigger_name_;  // the header that triggered a fault (access log)
  std::string fault_trigger_value_;

  // The picked service's load (this worker's slot) and limits, in the leased snapshot.
  upstream::WorkerServiceLoad* service_load_ = nullptr;
  const route::CompiledService* service_compiled_ = nullptr;
  bool counted_request_load_ = false;
  bool counted_pending_ = false;
  std::string overflow_line_;  // the header of a breaker's 503

  // Retries: the route's rules, and what another attempt needs.
  const route::RetryRules* retry_rules_ = nullptr;  // in the lease; null when the route has none
  bool replayable_ = false;     // the rules may resend this method, and its body so far is kept
  std::string replay_body_;     // request body bytes sent upstream so far, while replayable_
  uint32_t rule_retries_ = 0;   // attempts after the first that the route's rules made
  bool stale_retried_ = false;  // and the one on a fresh connection after a stale pooled one
  bool counted_retry_ = false;  // in the service's retry gauge (its budget)
  uint64_t deadline_ms_ = 0;    // the route's timeout over every attempt (0 = not started)
  uint64_t attempt_deadline_ms_ = 0;  // this attempt's per-try timeout (0 = none)

  // Upstream.
  uint64_t request_hash_ = 0;  // ring_hash, maglev: the request's key
  // Endpoints this request was sent to, which a new pick avoids (retries: another endpoint).
  std::array<uint32_t, 8> tried_endpoints_{};
  uint8_t tried_count_ = 0;
  const route::Endpoint* endpoint_ = nullptr;
  const std::string* service_ = nullptr;  // the picked target's service, in the leased snapshot
  upstream::UpstreamConnection* upstream_ = nullptr;
  bool counted_active_ = false;
  bool outcome_reported_ = false;
  Phase phase_ = Phase::kConnecting;

  // What the log phase reports.
  uint64_t started_us_ = 0;                      // monotonic, when the head was parsed
  uint64_t upstream_sent_us_ = 0;                // when the request first went upstream (0 = never)
  int64_t upstream_us_ = -1;                     // to the response head; -1 = no response head
  int status_ = -1;                              // what the client got; -1 = nothing yet
  uint64_t bytes_in_ = 0;                        // request bytes from the client, head included
  uint64_t bytes_out_ = 0;                       // response bytes to the client, head included
  const route::CompiledRoute* route_ = nullptr;  // in the leased snapshot
  const route::CompiledTarget* target_ = nullptr;  // in the leased snapshot
  bool fault_delayed_ = false;
  std::string log_path_;  // copied only when there is an access log
  std::string log_host_;

  // Response.
  http::ResponseHead response_;
  http::BodyFraming response_framing_ = http::BodyFraming::kNone;
  uint64_t response_remaining_ = 0;
  http::ChunkedScanner response_chunks_;
  bool response_started_ = false;  // bytes of the response went to the client
  bool response_done_ = false;
  bool response_until_close_ = false;
};

}  // namespace turnout::proxy
