// Keeps DNS names of backends resolved: asynchronously (c-ares, on a thread of its own, never
// on a worker), again when their TTL runs out, every address kept. The control plane tells it
// which names the configuration uses; it says when a name's addresses changed, and the control
// plane recompiles the services that use it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace turnout::dns {

struct ResolverOptions {
  std::vector<std::string> servers;  // "IP:PORT" or "IP"; empty = the system's resolv.conf
  uint32_t min_ttl_s = 1;            // re-resolve no more often than this
  uint32_t max_ttl_s = 300;          // and at least this often
  uint32_t retry_s = 5;              // after a failure
  uint32_t query_timeout_ms = 2000;  // per attempt
};

// What is known of one name.
struct Resolution {
  std::vector<std::string> addresses;  // IP literals (IPv6 without brackets), sorted
  std::string error;                   // why the last attempt failed ("" if it did not)
  bool answered = false;               // false until the first attempt ended
};

class Resolver {
 public:
  explicit Resolver(ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Starts the resolver thread; false with `error` when c-ares cannot start (bad servers).
  bool start(std::string& error);
  // Stops the thread: no callback runs after it returns. The destructor does it too.
  void stop();

  // The names to keep resolved (names not listed are forgotten). Waits up to `wait` for every
  // name not seen before to get its first answer, so a change that names a new backend routes
  // to it at once.
  void track(const std::set<std::string>& names, std::chrono::milliseconds wait);
  // Adds `names` to those kept resolved (forgetting none), waiting as track() does.
  void add(const std::set<std::string>& names, std::chrono::milliseconds wait);

  // What is known of `name` now (answered=false if never asked or still pending).
  Resolution lookup(const std::string& name) const;

  // Called on the resolver thread, outside its lock, with the names whose addresses or error
  // changed after their first answer.
  void setOnChange(std::function<void(const std::vector<std::string>&)> on_change);

 private:
  struct Entry;
  class Channel;

  void watch(const std::set<std::string>& names, bool forget_others,
             std::chrono::milliseconds wait);
  void run();
  void startDueQueries(std::chrono::steady_clock::time_point now);
  void finish(const std::string& name, Resolution result, uint32_t ttl_s);
  int pollTimeoutMs(std::chrono::steady_clock::time_point now) const;

  ResolverOptions options_;
  std::unique_ptr<Channel> channel_;
  mutable std::mutex mutex_;
  std::condition_variable answered_;
  std::map<std::string, Entry> entries_;
  std::function<void(const std::vector<std::string>&)> on_change_;
  std::vector<std::string> changed_;  // names to report once the lock is released
  int wake_[2] = {-1, -1};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace turnout::dns
