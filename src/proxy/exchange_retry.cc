// Further attempts of an exchange: which failures the route's retry rules take again, the
// request body kept to send again, the back-off between attempts and the fresh start of each.
#include "proxy/client_connection.h"
#include "proxy/exchange.h"

namespace turnout::proxy {
namespace {

observe::RetryReason reasonOf(route::AttemptFailure failure) {
  switch (failure) {
    case route::AttemptFailure::kConnect:
      return observe::RetryReason::kConnectFailure;
    case route::AttemptFailure::kReset:
      return observe::RetryReason::kReset;
    case route::AttemptFailure::kTimeout:
      return observe::RetryReason::kPerTryTimeout;
  }
  return observe::RetryReason::kReset;
}

}  // namespace

// A request is kept for another attempt only when its route retries and its method may be
// sent twice (idempotent, or non_idempotent allowed) with a body that can fit the replay
// buffer. A route without retries costs one pointer test per body chunk.
void Exchange::noteRetryRules(const route::CompiledRoute& route) {
  if (!route.retries.enabled()) return;
  retry_rules_ = &route.retries;
  const bool method_ok = route::isIdempotentMethod(method_) || retry_rules_->retriesNonIdempotent();
  const bool too_long = request_framing_ == http::BodyFraming::kContentLength &&
                        request_remaining_ > route::kReplayBufferBytes;
  replayable_ = method_ok && !too_long;
}

void Exchange::keepForReplay(std::string_view body) {
  if (!replayable_) return;
  if (replay_body_.size() + body.size() > route::kReplayBufferBytes) {
    replayable_ = false;  // a chunked body outgrew the buffer: this request is not retried
    std::string().swap(replay_body_);
    return;
  }
  replay_body_.append(body);
}

// Whether the request can go upstream again with nothing lost: a kept body, or an idempotent
// method without one.
bool Exchange::canReplay() const {
  if (replayable_) return true;
  return request_framing_ == http::BodyFraming::kNone && route::isIdempotentMethod(method_);
}

void Exchange::attemptFailed(route::AttemptFailure failure, int status, std::string_view reason) {
  const bool before_head = phase_ == Phase::kConnecting || phase_ == Phase::kWaitingHead;
  if (before_head && retry_rules_ != nullptr && retry_rules_->retriesFailure(failure) &&
      retryAfter(reasonOf(failure))) {
    return;
  }
  upstreamFailed(status, reason);
}

bool Exchange::retryResponse() {
  return retry_rules_ != nullptr && retry_rules_->retriesStatus(response_.status) &&
         retryAfter(observe::RetryReason::kStatus);
}

// Another attempt after a back-off, when attempts are left, the body can be sent again, the
// back-off ends before the route's deadline and the service's retry budget has room.
bool Exchange::retryAfter(observe::RetryReason reason) {
  if (response_started_ || rule_retries_ >= retry_rules_->attempts() || !canReplay()) return false;
  core::TimerWheel& wheel = worker_.loop().timers();
  const uint64_t wait_ms = retry_rules_->backoffMs(rule_retries_, worker_.rng());
  const uint64_t deadline = routeDeadlineMs();
  if (deadline != 0 && wheel.nowMs() + wait_ms >= deadline) return false;
  if (!admitRetry()) return false;
  ++rule_retries_;
  worker_.metrics().retries[static_cast<size_t>(reason)].add();
  observeUpstreamLatency(/*failed=*/true);
  releaseUpstream(false);  // a retried answer's body is not read: its connection goes
  phase_ = Phase::kBackingOff;
  timer_.arm(wheel, wait_ms);
  return true;
}

// Everything the last attempt learnt is dropped; what the client sent stays.
void Exchange::retryNow() {
  response_ = http::ResponseHead{};
  response_chunks_ = http::ChunkedScanner{};
  upstream_sent_us_ = 0;
  upstream_us_ = -1;
  outcome_reported_ = false;
  attemptUpstream();
}

}  // namespace turnout::proxy
