// The durable configuration store (DESIGN §1: every write is committed before it is
// acknowledged; §2: admin thread -> validate -> store -> compile -> publish).
//
// The store keeps the current model (listeners, services, routes in insertion order), the
// revision, the digest of the last config file applied, and a bounded log of changes. One
// change is one transaction: after commit() returns true the change survives a kill -9 or a
// power loss (SQLite WAL with synchronous=FULL).
//
// Thread-safety: a Store is used by one control thread at a time; the caller serializes
// (the admin thread already serializes writers). Nothing here takes a lock of its own.
//
// Several processes on one database: SQLite's file locks keep the file consistent, and
// commit() re-reads the revision inside its write transaction, so a second turnout writing
// the same database makes the stale one's commits fail with a revision error instead of
// interleaving silently. Nothing stops two processes from opening the same file; running two
// turnouts on one data directory is a deployment error this merely makes visible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "route/snapshot.h"

namespace turnout::store {

struct ChangeRecord {
  uint64_t revision = 0;
  int64_t time_ms = 0;      // unix ms when committed
  std::string kind;         // "replace_all", "upsert_route", "remove_route", "upsert_service",
                            // "remove_service"
  std::string name;         // route id or service name; "" for replace_all
  std::string source;       // who made it: "api", "config-file", ...
  std::string object_json;  // the new object as JSON; "" for removals and for replace_all
};

struct Snapshot {
  config::Config config;  // services and routes in insertion order (a replaced one keeps its place)
  uint64_t revision = 0;  // 0 for a fresh store
  std::string config_file_digest;  // last config file applied, "" if none
};

class Store {
 public:
  virtual ~Store() = default;

  // Reads the whole model. False with `error` on an I/O or decoding failure.
  virtual bool load(Snapshot& out, std::string& error) = 0;

  // Durably applies one change: the objects, the revision (must be exactly current + 1, else an
  // error and no change), one change-log row and, when non-empty, the config file digest, in
  // ONE transaction. Returns only once it is committed and synced. Removing an object that is
  // not stored is an error (the caller validated against a model that disagrees with the
  // store). On false nothing changed, in the file or in revision().
  virtual bool commit(const route::Change& change, uint64_t revision, std::string_view source,
                      std::string_view config_file_digest, std::string& error) = 0;

  // Up to `limit` changes with revision > `since`, oldest first. `*truncated` (if given) is set
  // when the log no longer holds revision since + 1 (it keeps the last N changes).
  virtual bool changesSince(uint64_t since, size_t limit, std::vector<ChangeRecord>& out,
                            bool* truncated, std::string& error) = 0;

  // The last committed revision as of open(), the last load() or this object's last commit().
  virtual uint64_t revision() const = 0;
};

struct SqliteOptions {
  size_t change_log_limit = 100000;  // changes kept in the log; older ones are pruned
  int busy_timeout_ms = 5000;        // how long a write waits for another connection's lock
};

// Opens the SQLite database at `path`, creating the file and its parent directories if needed.
// Sets WAL, synchronous=FULL, foreign_keys and busy_timeout, then creates or migrates the
// schema (schema_version in the meta table). nullptr with `error` when the file cannot be
// opened, is not a database, is corrupt, or has a schema newer than this binary knows.
std::unique_ptr<Store> openSqliteStore(const std::string& path, std::string& error);
std::unique_ptr<Store> openSqliteStore(const std::string& path, const SqliteOptions& options,
                                       std::string& error);

// The change kind as stored in the log ("upsert_route", ...).
std::string_view kindName(route::Change::Kind kind);

}  // namespace turnout::store
