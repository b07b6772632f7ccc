#include "store/schema.h"

#include <sqlite3.h>

#include <array>

namespace turnout::store {

namespace {

// Version 1. Positions keep insertion order (a replaced object keeps its row and so its
// place); UNIQUE on position gives the index that both MAX(position) and the ordered load use.
// The CHECKs are the last line of defence against an object without a key: validation
// upstream refuses it first, and a violation rolls the whole change back.
constexpr const char* kCreateV1 = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value NOT NULL
);
CREATE TABLE listeners(
  position INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE services(
  name TEXT PRIMARY KEY CHECK(length(name) > 0),
  position INTEGER NOT NULL UNIQUE,
  body TEXT NOT NULL
);
CREATE TABLE routes(
  id TEXT PRIMARY KEY CHECK(length(id) > 0),
  position INTEGER NOT NULL UNIQUE,
  body TEXT NOT NULL
);
CREATE TABLE changes(
  revision INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  object TEXT NOT NULL
);
INSERT INTO meta(key, value) VALUES ('revision', 0), ('config_file_digest', '');
)sql";

// kMigrations[v] takes a database from schema v to v + 1 (v = 0: an empty file).
constexpr std::array<const char*, kSchemaVersion> kMigrations = {kCreateV1};

// The stored schema version: 0 for an empty database (no meta table yet).
bool readVersion(Database& db, int& version, std::string& error) {
  Statement has_meta;
  if (!has_meta.prepare(
          db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", error)) {
    return false;
  }
  if (has_meta.step() != Statement::Step::kRow) {
    error = has_meta.lastError();
    return false;
  }
  version = 0;
  if (has_meta.columnInt(0) == 0) return true;
  Statement select;
  if (!select.prepare(db, "SELECT value FROM meta WHERE key = 'schema_version'", error)) {
    return false;
  }
  Statement::Step step = select.step();
  if (step == Statement::Step::kError) {
    error = select.lastError();
    return false;
  }
  if (step == Statement::Step::kDone) {
    error = "meta table has no schema_version: not a turnout store";
    return false;
  }
  version = static_cast<int>(select.columnInt(0));
  return true;
}

bool migrate(Database& db, int from, std::string& error) {
  for (int version = from; version < kSchemaVersion; ++version) {
    if (!db.exec(kMigrations[version], error)) {
      error = "migrating the store to schema " + std::to_string(version + 1) + ": " + error;
      return false;
    }
  }
  std::string sql = "INSERT INTO meta(key, value) VALUES ('schema_version', " +
                    std::to_string(kSchemaVersion) +
                    ") ON CONFLICT(key) DO UPDATE SET value = excluded.value";
  return db.exec(sql.c_str(), error);
}

bool inspectAndMigrate(Database& db, std::string& error) {
  int version = 0;
  if (!readVersion(db, version, error)) return false;
  if (version > kSchemaVersion || version < 0) {
    error = "store schema version " + std::to_string(version) + " is newer than this turnout (" +
            std::to_string(kSchemaVersion) + "); upgrade turnout";
    return false;
  }
  if (version == kSchemaVersion) return true;
  return migrate(db, version, error);
}

}  // namespace

bool configureConnection(Database& db, int busy_timeout_ms, std::string& error) {
  // busy_timeout first: journal_mode=WAL may need a lock another process holds.
  sqlite3_busy_timeout(db.handle(), busy_timeout_ms);
  Statement journal;
  if (!journal.prepare(db, "PRAGMA journal_mode = WAL", error)) return false;
  if (journal.step() != Statement::Step::kRow) {
    error = journal.lastError();
    return false;
  }
  if (journal.columnText(0) != "wal") {
    error = "cannot switch to WAL (journal mode is " + std::string(journal.columnText(0)) + ")";
    return false;
  }
  // FULL in WAL mode syncs the WAL at every commit: what "committed before acknowledged" needs.
  // journal_size_limit: after a checkpoint, a WAL grown by a big replace_all is truncated back
  // instead of keeping its peak size on disk forever.
  return db.exec(
      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
      "PRAGMA journal_size_limit = 16777216;",
      error);
}

bool ensureSchema(Database& db, std::string& error) {
  // IMMEDIATE: two processes opening a fresh file at once must not both create the schema.
  if (!db.exec("BEGIN IMMEDIATE", error)) return false;
  if (inspectAndMigrate(db, error) && db.exec("COMMIT", error)) return true;
  std::string ignored;
  db.exec("ROLLBACK", ignored);
  return false;
}

}  // namespace turnout::store
