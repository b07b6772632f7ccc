// Runtime health of every endpoint, beside the configuration: indexed by the endpoint's
// interned id (route::Endpoint::id), so a configuration change never resets it. The health
// thread (active checks, ejections and their expiry) is the only writer of each field; workers
// read with relaxed loads and never write here: passive failures reach the health thread as
// reports (see Outlier reports in health/health_service.h), so the data path takes no atomic
// read-modify-write.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace turnout::health {

struct EndpointState {
  std::atomic<bool> check_failed{false};   // the active health check says it is down
  std::atomic<bool> ejected{false};        // passive outlier detection took it out
  std::atomic<uint32_t> times_ejected{0};  // for the ejection time (base x times)
  std::atomic<uint64_t> first_seen_ms{0};  // monotonic ms when it joined (slow start)

  bool available() const {
    return !check_failed.load(std::memory_order_relaxed) &&
           !ejected.load(std::memory_order_relaxed);
  }
};

class EndpointStates {
 public:
  EndpointStates();
  ~EndpointStates();
  EndpointStates(const EndpointStates&) = delete;
  EndpointStates& operator=(const EndpointStates&) = delete;

  // The state of endpoint `id`, created (healthy, first seen `now_ms`) on first use. For the
  // threads that write states (health, control); workers only find().
  EndpointState& ensure(uint32_t id, uint64_t now_ms);
  // Any thread: the state of `id`, or nullptr when it was never created (then it is healthy).
  const EndpointState* find(uint32_t id) const;

  // Bumped after every change of any endpoint's availability: a worker that cached the
  // available endpoints of a set rebuilds them when it sees a new generation.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void bumpGeneration() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  static constexpr uint32_t kChunk = 1024;
  static constexpr uint32_t kMaxIds = kChunk * 4096;  // 4 M endpoint ids

 private:
  struct Chunk {
    std::array<EndpointState, kChunk> items;
  };
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::atomic<uint64_t> generation_{1};
};

// The process's table (endpoint ids are process-wide too).
EndpointStates& endpointStates();

// An endpoint that is not known to the table is available.
inline bool isAvailable(const EndpointStates& states, uint32_t id) {
  const EndpointState* state = states.find(id);
  return state == nullptr || state->available();
}

}  // namespace turnout::health
