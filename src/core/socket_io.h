// Non-blocking writes with a queue: what the socket does not take now waits in a Buffer
// until the next EPOLLOUT. Shared by client and upstream connections.
#pragma once

#include <sys/uio.h>

#include "core/buffer.h"

namespace turnout::core {

// Writes `parts` to `fd` at once when nothing is queued and `may_write` (a connecting socket
// may not), then queues in `pending` whatever the socket did not take, so bytes keep their
// order. False with errno set when the socket broke.
bool writeOrQueue(int fd, const iovec* parts, int count, Buffer& pending, bool may_write = true);

// Writes queued bytes until the socket is full or the queue is empty (then frees its
// storage). False with errno set when the socket broke.
bool flushQueued(int fd, Buffer& pending);

}  // namespace turnout::core
