#include "route/peak_ewma.h"

#include <algorithm>
#include <cmath>

namespace turnout::route {
namespace {

double decayOver(uint64_t from_ms, uint64_t to_ms) {
  const double elapsed = to_ms > from_ms ? static_cast<double>(to_ms - from_ms) : 0.0;
  return std::exp(-elapsed / PeakEwma::kDecayMs);
}

}  // namespace

// As tower's PeakEwma (Linkerd's balancer): the estimate decays toward 0 between observations;
// an answer slower than the decayed estimate replaces it at once (the peak), so a slowing
// endpoint is avoided from its first slow answer and a recovered one from its first fast one;
// a faster answer pulls the estimate toward itself by the weight of its own duration over the
// decay time (tower's EWMA over the request's flight time).
void PeakEwma::observe(uint32_t id, uint64_t latency_us, uint64_t now_ms) {
  if (by_id_.size() <= id) by_id_.resize(id + 1);
  Estimate& estimate = by_id_[id];
  const auto sample = static_cast<double>(latency_us);
  const double decayed = estimate.us < 0 ? -1 : estimate.us * decayOver(estimate.at_ms, now_ms);
  if (sample > decayed) {
    estimate.us = sample;
  } else {
    const double keep = std::exp(-sample / (kDecayMs * 1000));
    estimate.us = decayed * keep + sample * (1 - keep);
  }
  estimate.at_ms = now_ms;
}

void PeakEwma::observeFailure(uint32_t id, uint64_t elapsed_us, uint64_t now_ms) {
  observe(id, std::max(elapsed_us, kFailurePenaltyUs), now_ms);
}

double PeakEwma::estimateUs(uint32_t id, uint64_t now_ms) const {
  if (id >= by_id_.size() || by_id_[id].us < 0) return -1;
  const Estimate& estimate = by_id_[id];
  return estimate.us * decayOver(estimate.at_ms, now_ms);
}

}  // namespace turnout::route
