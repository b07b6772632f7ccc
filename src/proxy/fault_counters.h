// Process-wide counts of injected faults. Only requests that get a fault touch them (an atomic
// add on the fault path, never on a plain request), so they need no per-worker shards.
#pragma once

#include <atomic>
#include <cstdint>

namespace turnout::proxy {

struct FaultCounters {
  std::atomic<uint64_t> delays{0};    // requests delayed
  std::atomic<uint64_t> aborts{0};    // requests answered with an injected status
  std::atomic<uint64_t> drops{0};     // connections closed with no answer
  std::atomic<uint64_t> overflow{0};  // faults skipped because max_active_faults delays ran
  std::atomic<uint32_t> active_delays{0};
};

FaultCounters& faultCounters();

}  // namespace turnout::proxy
