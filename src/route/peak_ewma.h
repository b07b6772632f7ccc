// Linkerd's peak EWMA latency estimate (linkerd2-proxy, via tower's PeakEwma; Finagle before
// it), one table per worker: what the ewma balancer weighs endpoints by. Keyed by endpoint id,
// so it survives configuration changes; only its worker reads and writes it.
#pragma once

#include <cstdint>
#include <vector>

namespace turnout::route {

class PeakEwma {
 public:
  // Linkerd's defaults: a 10 s decay, and 30 ms for an endpoint not observed yet.
  static constexpr double kDecayMs = 10'000;
  static constexpr double kDefaultRttUs = 30'000;
  // What a failed attempt (refused, reset, no answer) counts as when it failed faster than this:
  // a slow answer, so the endpoint loses its pairs until the estimate decays.
  static constexpr uint64_t kFailurePenaltyUs = 1'000'000;

  // A response head arrived `latency_us` after the request went out.
  void observe(uint32_t id, uint64_t latency_us, uint64_t now_ms);
  // The attempt failed after `elapsed_us`: counted as max(elapsed, kFailurePenaltyUs).
  void observeFailure(uint32_t id, uint64_t elapsed_us, uint64_t now_ms);

  // The estimate in microseconds as of now, decayed toward 0 since the last observation (so an
  // endpoint avoided for a while is tried again, and its first answer resets it); negative when
  // `id` was never observed.
  double estimateUs(uint32_t id, uint64_t now_ms) const;

 private:
  struct Estimate {
    double us = -1;  // -1: never observed
    uint64_t at_ms = 0;
  };
  std::vector<Estimate> by_id_;
};

}  // namespace turnout::route
