#include "health/endpoint_states.h"

namespace turnout::health {

EndpointStates::EndpointStates()
    : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxIds / kChunk)) {
  for (uint32_t i = 0; i < kMaxIds / kChunk; ++i) chunks_[i].store(nullptr);
}

EndpointStates::~EndpointStates() {
  for (uint32_t i = 0; i < kMaxIds / kChunk; ++i) delete chunks_[i].load();
}

EndpointState& EndpointStates::ensure(uint32_t id, uint64_t now_ms) {
  std::atomic<Chunk*>& slot = chunks_[(id % kMaxIds) / kChunk];
  Chunk* chunk = slot.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    // Readers see it fully built (release); a writer that lost the race uses the winner's.
    auto* created = new Chunk();
    if (slot.compare_exchange_strong(chunk, created, std::memory_order_acq_rel)) {
      chunk = created;
    } else {
      delete created;
    }
  }
  EndpointState& state = chunk->items[id % kChunk];
  if (state.first_seen_ms.load(std::memory_order_relaxed) == 0) {
    state.first_seen_ms.store(now_ms == 0 ? 1 : now_ms, std::memory_order_relaxed);
  }
  return state;
}

const EndpointState* EndpointStates::find(uint32_t id) const {
  const Chunk* chunk = chunks_[(id % kMaxIds) / kChunk].load(std::memory_order_acquire);
  if (chunk == nullptr) return nullptr;
  const EndpointState& state = chunk->items[id % kChunk];
  return state.first_seen_ms.load(std::memory_order_relaxed) == 0 ? nullptr : &state;
}

EndpointStates& endpointStates() {
  static EndpointStates states;
  return states;
}

}  // namespace turnout::health
