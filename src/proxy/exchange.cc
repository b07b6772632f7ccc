#include "proxy/exchange.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "health/health_service.h"
#include "proxy/client_connection.h"
#include "proxy/error_page.h"
#include "proxy/fault_counters.h"
#include "proxy/forward_headers.h"

namespace turnout::proxy {
namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

Exchange::Exchange(ClientConnection& client, const http::RequestHead& head)
    : client_(client),
      worker_(client.worker()),
      snapshot_(worker_.leaseSnapshot()),
      timer_([this] { onTimer(); }) {
  started_us_ = client.headStartedMicros();
  bytes_in_ = head.head_bytes;
  observe::gaugeAdd(worker_.metrics().requests_active, 1);
  if (worker_.settings().access_log != nullptr) {
    log_path_.assign(head.path);  // with its query, as nginx's $request_uri
    if (!head.query.empty()) log_path_.append("?").append(head.query);
    log_host_.assign(head.authority);
  }
  method_.assign(head.method);
  version_minor_ = head.version_minor;
  client_keep_alive_ = head.keep_alive;
  wants_json_ = prefersJson(findHeader(head.headers, "accept"));
  wants_upgrade_ = head.upgrade;
  expect_continue_ = head.expect_continue;
  request_framing_ = head.framing;
  request_remaining_ = head.content_length;
  request_done_ = head.framing == http::BodyFraming::kNone;
  bool has_id = false;
  std::string_view id = findHeader(head.headers, "x-request-id", &has_id);
  // A client-chosen id is kept when it is short and printable; otherwise we make one.
  if (has_id && !id.empty() && id.size() <= 200) {
    request_id_.assign(id);
  } else {
    request_id_ = worker_.newRequestId();
  }
}

Exchange::~Exchange() {
  timer_.cancel();
  stopDelaying();
  if (upstream_ != nullptr) releaseUpstream(false);
  releaseServiceLoad();
  logExchange();
}

// ---- Phases ---------------------------------------------------------------------------------

void Exchange::start(const http::RequestHead& head) {
  if (worker_.settings().dry_run) {
    // Paralarva's dry-run answer; the length is computed, never typed.
    static const std::string kDryRun = [] {
      const std::string body = "<h1>200 OK (dry-run)</h1>\n";
      return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    client_.send(kDryRun);
    status_ = 200;
    bytes_out_ += kDryRun.size();
    request_done_ = request_framing_ == http::BodyFraming::kNone;
    phase_ = Phase::kDone;
    return client_.exchangeDone(client_keep_alive_ && request_done_);
  }
  const route::CompiledRoute* route = routeRequest(head);
  if (route == nullptr) return failLocal(404, "no route matches this request");
  route_ = route;
  noteRetryRules(*route);
  timeout_ms_ = route->source.timeout_ms;
  keep_client_host_ = route->source.keep_host;
  if (const config::DirectResponse& direct = route->source.direct_response; direct.status != 0) {
    return failLocal(static_cast<int>(direct.status),
                     direct.body.empty() ? "answered by route " + route->source.id : direct.body);
  }
  const route::CompiledTarget* target = pickVersion(*route, head);
  if (target == nullptr) return failLocal(503, "no service version is available for this route");
  target_ = target;
  if (endpoints_ == nullptr) {
    return failLocal(503, "service '" + target->service + "' has no endpoint of version '" +
                              target->version + "'");
  }
  if (route::isHashPolicy(endpoints_->lb())) {
    // Hashed now, while the head is at hand: the pick itself may come after a fault's delay.
    // A request without the policy's header or cookie hashes the client's address instead.
    request_hash_ = route::requestHash(endpoints_->settings().hash, head.headers, client_.peerIp());
  }
  if (!bufferedBodyIsWellFormed()) return;
  if (request_framing_ == http::BodyFraming::kContentLength && bodyOverLimit(request_remaining_)) {
    return failLocal(413, bodyLimitReason());
  }

  const std::string path = route->upstreamPath(head.path);
  UpstreamRequestInfo info;
  info.path = path;
  info.client_ip = client_.peerIp();
  info.request_id = request_id_;
  info.upgrade = wants_upgrade_;
  info.strip_expect = expect_continue_;
  upstream_head_.reserve(head.head_bytes + 160);
  appendUpstreamRequestHead(upstream_head_, head, info);
  if (!route->faults.empty() && injectFaults(*route, *target, head)) return;
  proceedToUpstream();
}

void Exchange::proceedToUpstream() {
  if (!admitToService()) return;
  attemptUpstream();
}

void Exchange::attemptUpstream() {
  endpoint_ = pickEndpoint(*endpoints_);
  if (endpoint_ == nullptr) return failLocal(503, "no healthy endpoint for this service");
  if (!endpoint_->unresolved.empty()) {
    return failLocal(
        502, "cannot resolve backend " + endpoint_->hostname + ": " + endpoint_->unresolved);
  }
  if (!keep_client_host_) setUpstreamHost();
  forward();
}

// A DNS-named backend gets its own name as Host, an IP endpoint the client's: a retry may go
// from one kind to the other.
void Exchange::setUpstreamHost() {
  if (!endpoint_->hostname.empty()) {
    std::string previous = replaceUpstreamHost(upstream_head_, endpoint_->hostname);
    if (!client_host_) client_host_ = std::move(previous);
  } else if (client_host_) {
    replaceUpstreamHost(upstream_head_, *client_host_);
  }
}

const route::CompiledRoute* Exchange::routeRequest(const http::RequestHead& head) {
  if (snapshot_.get() == nullptr) return nullptr;
  route::MatchInput input;
  input.host = head.authority;
  input.path = head.path;
  input.headers = &head.headers;
  return snapshot_->match(input);
}

// Picks the split target (sticky cookie, selectors, weights) and its endpoints; remembers the
// cookie line the response will carry.
const route::CompiledTarget* Exchange::pickVersion(const route::CompiledRoute& route,
                                                   const http::RequestHead& head) {
  route::VersionPick pick = route.pickVersion(head.headers, worker_.rng());
  if (pick.target == nullptr) return nullptr;
  const route::CompiledService* service = snapshot_->service(pick.target->service);
  if (service == nullptr) return nullptr;
  service_ = &pick.target->service;
  service_compiled_ = service;
  endpoints_ = service->forVersion(pick.target->version);
  if (pick.cookie == route::VersionPick::Cookie::kSet) {
    response_lines_ = route.sticky.set_prefix;
    response_lines_ += pick.target->label;
    response_lines_ += route.sticky.set_suffix;
  } else if (pick.cookie == route::VersionPick::Cookie::kExpire) {
    response_lines_ = route.sticky.expire_line;
  }
  return pick.target;
}

// Delay first (a timer: the worker goes on serving others), then abort. True when the faults
// took the request over; false when it goes upstream now, untouched.
bool Exchange::injectFaults(const route::CompiledRoute& route, const route::CompiledTarget& target,
                            const http::RequestHead& head) {
  route::FaultPlan plan = route.planFaults(target, head.headers, worker_.rng());
  if (!plan.any()) return false;
  FaultCounters& counters = faultCounters();
  if (plan.delay_ms > 0) {
    if (counters.active_delays.fetch_add(1, std::memory_order_relaxed) >=
        worker_.settings().max_active_faults) {
      counters.active_delays.fetch_sub(1, std::memory_order_relaxed);
      counters.overflow.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    counters.delays.fetch_add(1, std::memory_order_relaxed);
    delaying_ = true;
    fault_delayed_ = true;
  }
  fault_trigger_name_.assign(plan.trigger_name);
  fault_trigger_value_.assign(plan.trigger_value);
  pending_abort_status_ = plan.abort_status;
  pending_drop_ = plan.drop;
  if (!delaying_) {
    endFaults();
    return true;
  }
  phase_ = Phase::kDelaying;
  timer_.arm(worker_.loop().timers(), plan.delay_ms);
  return true;
}

// After the delay (or at once without one): the abort, if one fired, or on upstream.
void Exchange::endFaults() {
  stopDelaying();
  if (pending_drop_) {
    faultCounters().drops.fetch_add(1, std::memory_order_relaxed);
    phase_ = Phase::kDone;
    status_ = 0;
    return client_.dropConnection();
  }
  if (pending_abort_status_ != 0) {
    faultCounters().aborts.fetch_add(1, std::memory_order_relaxed);
    return failLocal(static_cast<int>(pending_abort_status_), "fault injected: abort");
  }
  proceedToUpstream();
}

void Exchange::stopDelaying() {
  if (!delaying_) return;
  delaying_ = false;
  faultCounters().active_delays.fetch_sub(1, std::memory_order_relaxed);
}

const route::Endpoint* Exchange::pickEndpoint(const route::EndpointSet& set) {
  route::PickContext ctx;
  ctx.worker = worker_.index();
  ctx.active_by_endpoint = &worker_.activeByEndpoint();
  ctx.rng = &worker_.rng();
  ctx.hash = request_hash_;
  ctx.now_ms = worker_.loop().nowMs();
  ctx.avoid = std::span<const uint32_t>(tried_endpoints_.data(), tried_count_);
  ctx.latency = &worker_.latencyByEndpoint();
  const route::Endpoint* endpoint = route::pickEndpoint(set, ctx);
  if (endpoint != nullptr) {
    auto& active = worker_.activeByEndpoint();
    if (active.size() <= endpoint->id) active.resize(endpoint->id + 1, 0);
    ++active[endpoint->id];
    counted_active_ = true;
    if (tried_count_ < tried_endpoints_.size()) tried_endpoints_[tried_count_++] = endpoint->id;
  }
  return endpoint;
}

// A chunked body that arrived with its head is checked before anything goes upstream, so a
// smuggling attempt packed into one packet never reaches the upstream at all, nor does a body
// over --max-request-body. A framing error or the limit later in a streamed body aborts the
// upstream connection mid-request instead.
bool Exchange::bufferedBodyIsWellFormed() {
  if (request_framing_ != http::BodyFraming::kChunked || client_.in().empty()) return true;
  http::ChunkedScanner probe = request_chunks_;
  size_t used = 0;
  http::ParseError error;
  if (probe.scan(client_.in().view(), &used, error) == http::ParseStatus::kError) {
    failLocal(400, error.reason);
    return false;
  }
  if (bodyOverLimit(probe.declaredBytes())) {
    failLocal(413, bodyLimitReason());
    return false;
  }
  return true;
}

// --max-request-body: by Content-Length, or by the chunk sizes a chunked body declared so far.
bool Exchange::bodyOverLimit(uint64_t body_bytes) const {
  const uint64_t limit = worker_.settings().max_request_body_bytes;
  return limit > 0 && body_bytes > limit;
}

std::string Exchange::bodyLimitReason() const {
  return "the request body is larger than " +
         std::to_string(worker_.settings().max_request_body_bytes) + " bytes";
}

void Exchange::forward(bool fresh_connection) {
  phase_ = Phase::kConnecting;
  startAttemptClock();
  upstream::UpstreamPool& pool = worker_.pool();
  if (upstream_sent_us_ == 0) upstream_sent_us_ = core::monotonicMicros();
  if (!fresh_connection) upstream_ = pool.takeIdle(endpoint_->id, this);
  if (upstream_ == nullptr) {
    if (!admitNewConnection()) return;  // the breakers check new connections only
    upstream_ = pool.connect(endpoint_->id, endpoint_->sockaddr, endpoint_->sockaddr_len, this);
  }
  if (upstream_ == nullptr) {
    reportOutcome(health::UpstreamOutcome::kConnectFailure);
    return attemptFailed(route::AttemptFailure::kConnect, 502,
                         std::string("cannot connect to upstream ") + endpoint_->address + ": " +
                             std::strerror(errno));
  }
  head_written_ = false;
  if (upstream_->connected()) {
    onUpstreamConnected();
  } else {
    upstream_->countIn(&service_load_->connections);
    observe::gaugeAdd(service_load_->pending, 1);
    counted_pending_ = true;
    timer_.arm(worker_.loop().timers(), attemptTimeLeftMs(worker_.settings().connect_timeout_ms));
  }
}

void Exchange::onUpstreamConnected() {
  phase_ = Phase::kWaitingHead;
  stopPending();
  armRequestTimer();
  if (expect_continue_ && !request_done_ && !request_body_started_ && !continue_sent_) {
    continue_sent_ = true;
    bytes_out_ += kContinue.size();
    client_.send(kContinue);
  }
  pumpRequestBody();
}

void Exchange::pumpRequestBody() {
  core::Buffer& in = client_.in();
  const size_t limit = worker_.settings().max_buffered_bytes;
  constexpr std::string_view kBroke = "upstream connection broke while sending the request";
  // Another attempt sends first what the client sent so far.
  if (!head_written_ && !replay_body_.empty() && !writeUpstream(replay_body_)) {
    return attemptFailed(route::AttemptFailure::kReset, 502, kBroke);
  }
  if (!head_written_ && (request_done_ || in.empty()) && !writeUpstream({})) {
    return attemptFailed(route::AttemptFailure::kReset, 502, kBroke);
  }
  while (!request_done_ && upstream_ != nullptr && upstream_->pendingOutput() < limit) {
    if (in.empty()) {
      if (!client_.readMore()) return client_.abort();
      if (in.empty()) {
        if (client_.peerClosed()) return upstreamFailed(400, "the client closed mid-body");
        return;  // wait for the client
      }
    }
    request_body_started_ = true;
    size_t take = 0;
    if (request_framing_ == http::BodyFraming::kContentLength) {
      take = static_cast<size_t>(std::min<uint64_t>(in.size(), request_remaining_));
      request_remaining_ -= take;
      request_done_ = request_remaining_ == 0;
    } else {
      http::ParseError error;
      auto status = request_chunks_.scan(in.view(), &take, error);
      if (status == http::ParseStatus::kError) return failLocal(400, error.reason);
      if (bodyOverLimit(request_chunks_.declaredBytes())) {
        return upstreamFailed(413, bodyLimitReason());  // before a byte of that chunk goes
      }
      request_done_ = status == http::ParseStatus::kComplete;
    }
    if (!writeUpstream(in.view().substr(0, take))) {
      return attemptFailed(route::AttemptFailure::kReset, 502, kBroke);
    }
    keepForReplay(in.view().substr(0, take));
    bytes_in_ += take;
    in.consume(take);
    if (phase_ == Phase::kWaitingHead) armRequestTimer();  // progress, or the body is complete
  }
}

// Sends body bytes upstream, preceded the first time by the request head, in one writev:
// one syscall for a small request instead of two.
bool Exchange::writeUpstream(std::string_view body) {
  iovec parts[2];
  int count = 0;
  if (!head_written_) {
    parts[count++] = {upstream_head_.data(), upstream_head_.size()};
    head_written_ = true;
  }
  if (!body.empty()) parts[count++] = {const_cast<char*>(body.data()), body.size()};
  return count == 0 || upstream_->write(parts, count);
}

// Sends response bytes to the client, preceded the first time by the response head.
bool Exchange::writeClient(std::string_view body) {
  iovec parts[2];
  int count = 0;
  if (!client_head_.empty()) parts[count++] = {client_head_.data(), client_head_.size()};
  if (!body.empty()) parts[count++] = {const_cast<char*>(body.data()), body.size()};
  if (count == 0) return true;
  response_started_ = true;
  for (int i = 0; i < count; ++i) bytes_out_ += parts[i].iov_len;
  const bool ok = client_.send(parts, count);
  client_head_.clear();
  return ok;
}

// While the body is still coming, the client's progress is what is timed; then the attempt's
// time left.
void Exchange::armRequestTimer() {
  const uint64_t body_timeout = worker_.settings().body_timeout_ms;
  timer_.arm(worker_.loop().timers(), request_done_ ? attemptTimeLeftMs(UINT64_MAX) : body_timeout);
}

// The route's timeout runs from the end of the request (as Envoy's does) and covers every
// attempt, connects and back-offs included; it starts the first time an attempt is timed after
// the request ended (an injected delay is not part of it). 0 while the request is incomplete.
uint64_t Exchange::routeDeadlineMs() {
  if (deadline_ms_ == 0 && request_done_) deadline_ms_ = worker_.loop().nowMs() + timeout_ms_;
  return deadline_ms_;
}

bool Exchange::routeDeadlinePassed() const {
  return deadline_ms_ != 0 && worker_.loop().nowMs() >= deadline_ms_;
}

// Each attempt, its connect included, may have a per-try timeout within the route's.
void Exchange::startAttemptClock() {
  const uint32_t per_try = retry_rules_ != nullptr ? retry_rules_->perTryTimeoutMs() : 0;
  attempt_deadline_ms_ = per_try != 0 ? worker_.loop().nowMs() + per_try : 0;
}

// `cap`, or less when the route's deadline or the attempt's comes sooner.
uint64_t Exchange::attemptTimeLeftMs(uint64_t cap) {
  const uint64_t now = worker_.loop().nowMs();
  for (const uint64_t deadline : {routeDeadlineMs(), attempt_deadline_ms_}) {
    if (deadline != 0) cap = std::min(cap, deadline > now ? deadline - now : 0);
  }
  return cap;
}

void Exchange::onClientData() {
  if (phase_ == Phase::kTunnel) return pumpTunnel();
  // The body waits in the buffer until the delay or the back-off ends.
  if (phase_ == Phase::kDelaying || phase_ == Phase::kBackingOff) return;
  if (!request_done_) {
    if (phase_ != Phase::kConnecting) pumpRequestBody();
    return;
  }
  // A pipelined request waits in the buffer until this exchange ends; a client that closed
  // its side after a complete request still gets its answer.
}

void Exchange::onUpstreamWritable() {
  if (phase_ == Phase::kTunnel) return pumpTunnel();
  pumpRequestBody();
}

void Exchange::onUpstreamReadable() {
  if (phase_ == Phase::kTunnel) return pumpTunnel();
  readResponse();
}

void Exchange::onClientDrained() {
  if (phase_ == Phase::kTunnel) return pumpTunnel();
  if (upstream_ != nullptr) readResponse();
}

void Exchange::readResponse() {
  const size_t limit = worker_.settings().max_buffered_bytes;
  while (upstream_ != nullptr && phase_ != Phase::kDone && phase_ != Phase::kTunnel) {
    if (client_.pendingOutput() >= limit) return;  // resume in onClientDrained
    const ssize_t n = upstream_->read();
    if (n == -2) {
      reportOutcome(health::UpstreamOutcome::kConnectFailure);  // reset
      return attemptFailed(route::AttemptFailure::kReset, 502, "upstream connection error");
    }
    if (phase_ != Phase::kRelayingBody && !handleResponseHead()) {
      // An incomplete head: read on, or a close that came with its bytes is never seen (the
      // edge that announced both is spent).
      if (n > 0 && upstream_ != nullptr && phase_ == Phase::kWaitingHead) continue;
      return;
    }
    relayResponseBody();  // also completes an empty body at once
    if (n == -1) return;  // nothing more to read now: wait for the next edge
  }
}

// Parses the response head once it is complete; false when the exchange must wait or ended.
bool Exchange::handleResponseHead() {
  core::Buffer& in = upstream_->in();
  while (true) {
    http::ParseError error;
    auto status =
        http::parseResponseHead(in.view(), worker_.settings().limits, method_, response_, error);
    if (status == http::ParseStatus::kError) {
      reportOutcome(health::UpstreamOutcome::kGatewayFailure);
      attemptFailed(route::AttemptFailure::kReset, 502,
                    std::string("invalid response from upstream: ") + error.reason);
      return false;
    }
    if (status == http::ParseStatus::kIncomplete) {
      if (upstream_->eof()) {
        if (in.empty() && retryOnFreshConnection()) return false;
        reportOutcome(health::UpstreamOutcome::kConnectFailure);
        attemptFailed(route::AttemptFailure::kReset, 502,
                      "upstream closed the connection before answering");
        return false;
      }
      return false;
    }
    if (response_.status >= 100 && response_.status < 200 && response_.status != 101) {
      in.consume(response_.head_bytes);  // interim answers: our own 100 already went out
      continue;
    }
    break;
  }
  upstream_us_ = static_cast<int64_t>(core::monotonicMicros() - upstream_sent_us_);
  observeUpstreamLatency(/*failed=*/false);
  reportOutcome(health::outcomeOfStatus(response_.status));
  if (retryResponse()) return false;
  status_ = response_.status;
  if (response_.status == 101) {
    if (!wants_upgrade_) {
      upstreamFailed(502, "upstream switched protocols without being asked");
      return false;
    }
    startTunnel();
    return false;
  }
  timer_.arm(worker_.loop().timers(), worker_.settings().body_timeout_ms);
  response_framing_ = response_.framing;
  response_remaining_ = response_.content_length;
  response_until_close_ = response_framing_ == http::BodyFraming::kUntilClose;
  const bool close_client =
      !client_keep_alive_ || response_until_close_ || worker_.draining() || !request_done_;
  ClientResponseInfo info;
  info.request_id = request_id_;
  info.close = close_client;
  info.extra_lines = response_lines_;
  if (close_client) client_keep_alive_ = false;
  client_head_.clear();
  appendClientResponseHead(client_head_, response_, info);
  in.consume(response_.head_bytes);
  upstream_head_.clear();
  phase_ = Phase::kRelayingBody;
  if (response_framing_ == http::BodyFraming::kNone) {
    writeClient({});
    response_done_ = true;
    finish();
    return false;
  }
  return true;  // the head goes out with the first body bytes
}

void Exchange::relayResponseBody() {
  core::Buffer& in = upstream_->in();
  if (!in.empty()) {
    size_t take = in.size();
    if (response_framing_ == http::BodyFraming::kContentLength) {
      take = static_cast<size_t>(std::min<uint64_t>(take, response_remaining_));
      response_remaining_ -= take;
      response_done_ = response_remaining_ == 0;
    } else if (response_framing_ == http::BodyFraming::kChunked) {
      http::ParseError error;
      auto status = response_chunks_.scan(in.view(), &take, error);
      if (status == http::ParseStatus::kError) {
        return upstreamFailed(502, "invalid chunked body from upstream");
      }
      response_done_ = status == http::ParseStatus::kComplete;
    }
    if (take > 0) {
      timer_.arm(worker_.loop().timers(), worker_.settings().body_timeout_ms);
      if (!writeClient(in.view().substr(0, take))) return client_.abort();
      in.consume(take);
    }
  } else if (response_framing_ == http::BodyFraming::kContentLength && response_remaining_ == 0) {
    response_done_ = true;
  }
  if (!response_done_ && upstream_->eof() && in.empty()) {
    if (response_until_close_) {
      response_done_ = true;
    } else {
      // The upstream died mid-body: the client must not take a short body for a whole one.
      return upstreamFailed(502, "upstream closed mid-response");
    }
  }
  if (response_done_) {
    writeClient({});  // a head whose body was empty
    finish();
  }
}

void Exchange::startTunnel() {
  phase_ = Phase::kTunnel;
  timer_.cancel();
  core::Buffer& in = upstream_->in();
  ClientResponseInfo info;
  info.request_id = request_id_;
  info.upgrade = true;
  std::string head;
  appendClientResponseHead(head, response_, info);
  in.consume(response_.head_bytes);
  response_started_ = true;
  bytes_out_ += head.size();
  client_.send(head);
  pumpTunnel();
}

void Exchange::pumpTunnel() {
  // Bytes both ways until either side ends; each direction respects the other's queue.
  const size_t limit = worker_.settings().max_buffered_bytes;
  if (upstream_ == nullptr) return;
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    core::Buffer& from_client = client_.in();
    if (!from_client.empty() && upstream_->pendingOutput() < limit) {
      if (!upstream_->write(from_client.view())) return upstreamFailed(502, "tunnel broke");
      bytes_in_ += from_client.size();
      from_client.consume(from_client.size());
      moved = true;
    }
    core::Buffer& from_upstream = upstream_->in();
    if (!from_upstream.empty() && client_.pendingOutput() < limit) {
      if (!client_.send(from_upstream.view())) return client_.abort();
      bytes_out_ += from_upstream.size();
      from_upstream.consume(from_upstream.size());
      moved = true;
    }
    if (from_client.empty() && upstream_->pendingOutput() < limit) {
      if (!client_.readMore()) return client_.abort();
      moved = moved || !from_client.empty();
    }
    if (from_upstream.empty() && client_.pendingOutput() < limit) {
      ssize_t n = upstream_->read();
      if (n == -2) return client_.abort();
      moved = moved || n > 0;
    }
    const bool client_ended = client_.peerClosed() && from_client.empty();
    const bool upstream_ended = upstream_->eof() && upstream_->in().empty();
    if (client_ended || upstream_ended) {
      phase_ = Phase::kDone;
      releaseUpstream(false);
      return client_.exchangeDone(false);
    }
    if (!moved) return;
  }
  // Still busy after a fair share of this wake-up: continue after other connections ran.
  worker_.loop().defer([this] { pumpTunnel(); });
}

void Exchange::finish() {
  phase_ = Phase::kDone;
  timer_.cancel();
  const bool reusable =
      response_.keep_alive && request_done_ && !response_until_close_ && endpointStillConfigured();
  releaseUpstream(reusable);
  client_.exchangeDone(client_keep_alive_ && request_done_);
}

// A connection to an endpoint the configuration dropped while this exchange ran is not kept:
// nothing will pick that endpoint again, and it should see its connections go.
bool Exchange::endpointStillConfigured() const {
  const route::Snapshot* now = worker_.currentSnapshot();
  if (now == snapshot_.get() || service_ == nullptr) return true;
  const route::CompiledService* service = now->service(*service_);
  if (service == nullptr) return false;
  for (const route::Endpoint& endpoint : service->all->endpoints()) {
    if (endpoint.id == endpoint_->id) return true;
  }
  return false;
}

// ---- Failures -------------------------------------------------------------------------------

void Exchange::failLocal(int status, std::string_view reason) {
  phase_ = Phase::kDone;
  timer_.cancel();
  releaseUpstream(false);
  if (response_started_) return client_.abort();
  status_ = status;
  const bool keep = client_keep_alive_ && request_done_ && !worker_.draining() && status != 400;
  const bool head_only = method_ == "HEAD";
  const std::string* page =
      snapshot_.get() ? snapshot_->errorPage(client_.listenerName(), status) : nullptr;
  const std::string answer = renderErrorResponse(status, reason, request_id_, wants_json_, !keep,
                                                 head_only, page, overflow_line_);
  bytes_out_ += answer.size();
  client_.send(answer);
  client_.exchangeDone(keep);
}

void Exchange::upstreamFailed(int status, std::string_view reason) {
  // Refused, reset, timed out or garbled before any answer: the endpoint's fault, not the
  // client's (a client that left mid-body gets 400 here and teaches the balancer nothing).
  if (status == 502 || status == 504) observeUpstreamLatency(/*failed=*/true);
  // Once response bytes reached the client, the only honest signal left is to cut the line.
  if (response_started_) {
    phase_ = Phase::kDone;
    timer_.cancel();
    releaseUpstream(false);
    return client_.abort();
  }
  failLocal(status, reason);
}

bool Exchange::retryOnFreshConnection() {
  // A pooled connection the upstream closed just as we reused it: send the request once more
  // on a new connection to the same endpoint, when the method is safe to repeat and nothing of
  // its body is lost. Not one of the route's retries: the endpoint did nothing wrong.
  if (stale_retried_ || upstream_ == nullptr || !upstream_->reused() || !canReplay()) {
    return false;
  }
  stale_retried_ = true;
  worker_.metrics().retries[static_cast<size_t>(observe::RetryReason::kStaleConnection)].add();
  upstream_->close();
  upstream_ = nullptr;
  forward(/*fresh_connection=*/true);
  return true;
}

void Exchange::onUpstreamError(int err) {
  if (phase_ == Phase::kConnecting) {
    reportOutcome(health::UpstreamOutcome::kConnectFailure);
    return attemptFailed(route::AttemptFailure::kConnect, 502,
                         std::string("cannot connect to upstream ") + endpoint_->address + ": " +
                             std::strerror(err));
  }
  if (!response_started_ && upstream_->in().empty() && retryOnFreshConnection()) return;
  reportOutcome(health::UpstreamOutcome::kConnectFailure);  // reset
  attemptFailed(route::AttemptFailure::kReset, 502,
                std::string("upstream connection error: ") + std::strerror(err));
}

void Exchange::onTimer() {
  switch (phase_) {
    case Phase::kConnecting:
      reportOutcome(health::UpstreamOutcome::kConnectFailure);
      if (routeDeadlinePassed()) return routeTimedOut();
      return attemptFailed(route::AttemptFailure::kConnect, 504,
                           "timed out connecting to upstream " + endpoint_->address);
    case Phase::kWaitingHead:
      reportOutcome(health::UpstreamOutcome::kGatewayFailure);  // Envoy counts a timeout as a 504
      if (routeDeadlinePassed() || !request_done_ || attempt_deadline_ms_ == 0) {
        return routeTimedOut();
      }
      return attemptFailed(route::AttemptFailure::kTimeout, 504,
                           "upstream did not answer within the per-try timeout (" +
                               std::to_string(retry_rules_->perTryTimeoutMs()) + " ms)");
    case Phase::kBackingOff:
      return retryNow();
    case Phase::kRelayingBody:
      return upstreamFailed(504, "upstream stopped sending the response body");
    case Phase::kDelaying:
      return endFaults();
    default:
      return;
  }
}

void Exchange::routeTimedOut() {
  upstreamFailed(504, "upstream did not answer within " + std::to_string(timeout_ms_) + " ms");
}

void Exchange::onClientGone() {
  if (status_ < 0) status_ = 499;  // nginx's code for a client that left before its answer
  phase_ = Phase::kDone;
  timer_.cancel();
  releaseUpstream(false);
}

void Exchange::releaseUpstream(bool reusable) {
  stopPending();
  if (counted_active_) {
    auto& active = worker_.activeByEndpoint();
    if (endpoint_ != nullptr && endpoint_->id < active.size() && active[endpoint_->id] > 0) {
      --active[endpoint_->id];
    }
    counted_active_ = false;
  }
  if (upstream_ == nullptr) return;
  upstream_->detach();
  worker_.pool().release(upstream_, reusable);
  upstream_ = nullptr;
}

}  // namespace turnout::proxy
