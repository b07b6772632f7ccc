#include "proxy/client_connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "core/net.h"
#include "core/socket_io.h"
#include "http/h1_parser.h"
#include "proxy/error_page.h"
#include "proxy/exchange.h"
#include "proxy/forward_headers.h"
#include "proxy/worker.h"

namespace turnout::proxy {
namespace {
constexpr uint32_t kLingerMs = 2000;  // how long a closing connection drains the client's bytes
constexpr size_t kReadChunk = 16 * 1024;
}  // namespace

ClientConnection::ClientConnection(Worker& worker, int fd, const sockaddr_storage& peer,
                                   const std::string& listener_name)
    : worker_(worker),
      fd_(fd),
      peer_ip_(core::peerIp(peer)),
      listener_name_(listener_name),
      timer_([this] { onTimeout(); }) {
  if (worker_.settings().access_log != nullptr) peer_address_ = core::formatAddress(peer);
  core::setNoDelay(fd_);
  worker_.loop().add(fd_, this);
  armIdle();
}

ClientConnection::~ClientConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void ClientConnection::armIdle() {
  state_ = State::kIdle;
  timer_.arm(worker_.loop().timers(), worker_.settings().idle_timeout_ms);
}

bool ClientConnection::idle() const { return state_ == State::kIdle && in_.empty(); }

void ClientConnection::onIoEvents(uint32_t events) {
  if (state_ == State::kClosed) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_hung_up_ = true;
  if ((events & EPOLLOUT) && !out_.empty()) {
    if (!flush()) return close();
    if (out_.empty()) {
      if (state_ == State::kClosing) return linger_ ? finishClosing() : close();
      if (exchange_) exchange_->onClientDrained();
      if (state_ == State::kClosed) return;
    }
  }
  if (readable_) onReadable();
}

bool ClientConnection::readMore() {
  const size_t limit = worker_.settings().max_buffered_bytes;
  while (readable_ && in_.size() < limit) {
    // An empty buffer reads through the worker's scratch and keeps only what arrived, so a
    // connection holds memory for its bytes, not for a worst-case read.
    const bool via_scratch = in_.empty();
    char* dst = via_scratch ? worker_.scratch().data() : in_.prepare(kReadChunk);
    const size_t room = via_scratch ? worker_.scratch().size() : in_.writable();
    ssize_t n = ::read(fd_, dst, room);
    if (n > 0) {
      if (via_scratch) {
        in_.append({dst, static_cast<size_t>(n)});
      } else {
        in_.commit(static_cast<size_t>(n));
      }
      // Drained: edge-triggered, the next byte brings a new edge; but a FIN announced by
      // EPOLLRDHUP brings none, so then we read on until EOF.
      if (static_cast<size_t>(n) < room && !peer_hung_up_) readable_ = false;
      continue;
    }
    readable_ = false;
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
  }
  return true;
}

void ClientConnection::onReadable() {
  if (state_ == State::kClosing) {
    // Lingering close: discard what the client still sends so that closing with unread
    // bytes does not reset the connection and destroy the answer in flight (nginx does this).
    char sink[4096];
    ssize_t n;
    while ((n = ::read(fd_, sink, sizeof sink)) > 0) {
    }
    readable_ = false;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) close();
    return;
  }
  if (!readMore()) return close();
  if (exchange_) {
    exchange_->onClientData();
    return;
  }
  processInput();
}

void ClientConnection::processInput() {
  while (state_ != State::kClosed && state_ != State::kClosing && !exchange_) {
    if (in_.empty()) {
      if (eof_) return close();
      in_.releaseIfEmpty();
      if (state_ != State::kIdle) armIdle();
      return;
    }
    if (worker_.draining() && state_ == State::kIdle) return close();
    if (state_ == State::kIdle) {
      state_ = State::kReadingHead;
      head_started_us_ = core::monotonicMicros();
      timer_.arm(worker_.loop().timers(), worker_.settings().header_timeout_ms);
    }
    http::ParseError error;
    switch (http::parseRequestHead(in_.view(), worker_.settings().limits, worker_.scratchHead(),
                                   error)) {
      case http::ParseStatus::kIncomplete:
        if (eof_) return close();  // the client gave up halfway through a head
        if (readable_) {
          if (!readMore()) return close();
          continue;
        }
        return;
      case http::ParseStatus::kError:
        return rejectRequest(error.status, error.reason);
      case http::ParseStatus::kComplete:
        startExchange();
        break;
    }
  }
}

void ClientConnection::startExchange() {
  timer_.cancel();
  state_ = State::kInExchange;
  const http::RequestHead& head = worker_.scratchHead();
  exchange_ = std::make_unique<Exchange>(*this, head);
  // Only the read cursor moves: the head's views stay valid through start(), which copies
  // what it needs. start() may finish the exchange at once (a local answer).
  in_.consume(head.head_bytes);
  exchange_->start(head);
}

void ClientConnection::exchangeDone(bool keep_alive) {
  // The exchange is on the call stack: free it after this batch of events.
  Exchange* done = exchange_.release();
  worker_.loop().defer([done] { delete done; });
  if (!keep_alive || worker_.draining()) {
    // Linger only when the client may still be sending (an unread body, pipelined bytes):
    // closing on unread bytes would reset the connection and could destroy the answer.
    return closeAfterFlush(/*linger=*/!in_.empty() || readable_);
  }
  state_ = State::kIdle;
  // Pipelined requests may be waiting in the buffer; parse them after the stack unwinds.
  worker_.loop().defer([this] {
    if (state_ == State::kIdle && !exchange_) {
      processInput();
      if (state_ == State::kIdle && readable_) onReadable();
    }
  });
  armIdle();
}

void ClientConnection::rejectRequest(int status, std::string_view reason) {
  // A malformed request ends the connection: nothing after it can be framed with confidence.
  const std::string request_id = worker_.newRequestId();
  const route::Snapshot* snapshot = worker_.currentSnapshot();
  const std::string* page = snapshot ? snapshot->errorPage(listener_name_, status) : nullptr;
  const std::string answer =
      renderErrorResponse(status, reason, request_id, rawHeadAcceptsJson(in_.view()),
                          /*close=*/true, /*head_only=*/false, page);
  send(answer);
  logRejected(status, request_id, answer.size());
  closeAfterFlush();
}

// A request that never became an exchange still counts (with no route) and gets its log line.
void ClientConnection::logRejected(int status, std::string_view request_id, size_t bytes_out) {
  const uint64_t duration_us =
      head_started_us_ > 0 ? core::monotonicMicros() - head_started_us_ : 0;
  if (observe::RouteSeries* series = worker_.seriesOf(nullptr, nullptr)) {
    series->codes[observe::codeSlot(status)].add();
    series->request.observe(duration_us);
  }
  worker_.metrics().bytes_in.add(in_.size());
  worker_.metrics().bytes_out.add(bytes_out);
  observe::AccessLog* log = worker_.settings().access_log;
  if (log == nullptr || !log->sampled(worker_.index(), status)) return;
  observe::AccessRecord record;
  record.timestamp_ms = observe::wallClockMsAgo(duration_us);
  record.request_id = request_id;
  record.client = peer_address_;
  record.status = status;
  record.bytes_in = in_.size();
  record.bytes_out = bytes_out;
  record.duration_us = duration_us;
  record.src = worker_.settings().identity;
  log->write(worker_.index(), record);
}

bool ClientConnection::send(const iovec* parts, int count) {
  if (state_ == State::kClosed) return false;
  return core::writeOrQueue(fd_, parts, count, out_);
}

bool ClientConnection::send(std::string_view bytes) {
  iovec part{const_cast<char*>(bytes.data()), bytes.size()};
  return send(&part, 1);
}

bool ClientConnection::flush() { return core::flushQueued(fd_, out_); }

void ClientConnection::closeAfterFlush(bool linger) {
  if (state_ == State::kClosed) return;
  if (!linger && out_.empty()) return close();
  state_ = State::kClosing;
  linger_ = linger;
  timer_.arm(worker_.loop().timers(), kLingerMs);
  if (out_.empty()) finishClosing();
}

void ClientConnection::finishClosing() {
  ::shutdown(fd_, SHUT_WR);
  if (eof_) return close();
  if (readable_) onReadable();
}

void ClientConnection::abort() {
  // A reset tells the client the response is incomplete, even if it counted no bytes.
  linger lin{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
  close();
}

void ClientConnection::dropConnection() {
  ::shutdown(fd_, SHUT_WR);  // FIN first: a close with unread input alone would reset
  close();
}

void ClientConnection::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  timer_.cancel();
  if (exchange_) {
    exchange_->onClientGone();
    Exchange* gone = exchange_.release();
    worker_.loop().defer([gone] { delete gone; });
  }
  ::close(fd_);  // also leaves the epoll set: the fd is never duplicated
  fd_ = -1;
  worker_.onConnectionClosed(this);
}

void ClientConnection::beginDrain() {
  if (idle()) close();
}

void ClientConnection::onTimeout() {
  switch (state_) {
    case State::kReadingHead:
      return rejectRequest(408, "the request head did not arrive in time");
    case State::kIdle:
    case State::kClosing:
      return close();
    default:
      return;
  }
}

}  // namespace turnout::proxy
