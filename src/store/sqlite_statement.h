// Thin RAII wrappers over the SQLite C API: a connection and a prepared statement. They hide
// the finalize/close bookkeeping and turn result codes into bool + message; no exceptions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace turnout::store {

class Database {
 public:
  Database() = default;
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (or creates) the file; false with `error` otherwise.
  bool open(const std::string& path, std::string& error);
  // Runs SQL text without results (pragmas, DDL, BEGIN/COMMIT). False with `error`.
  bool exec(const char* sql, std::string& error);
  // The last error of this connection, "database is locked (5)" style.
  std::string lastError() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const;
  // True when a transaction is open (false after COMMIT, ROLLBACK or an automatic rollback).
  bool inTransaction() const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement, prepared once and reused: reset() clears results and bindings so a
// cached statement is always ready for the next use, even after a failed step.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepare(Database& db, const char* sql, std::string& error);

  // Bind helpers; 1-based parameter index as in SQLite. Text is NOT copied (SQLITE_STATIC): it
  // must stay alive until reset(), which run() and ResetOnExit do before the caller moves on.
  void bind(int index, int64_t value);
  void bind(int index, std::string_view text);

  // One step: kRow when a row is ready, kDone at the end, kError otherwise (see lastError()).
  enum class Step { kRow, kDone, kError };
  Step step();
  // Runs a statement that returns no rows (or ignores them) to completion, then resets it.
  bool run(std::string& error);

  int64_t columnInt(int column) const;
  std::string_view columnText(int column) const;  // valid until the next step or reset
  bool columnIsNull(int column) const;

  void reset();  // also clears bindings
  std::string lastError() const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// Resets a statement when the scope ends, so an early return never leaves it mid-step (a
// statement left mid-step keeps a read transaction open and blocks checkpoints).
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& statement) : statement_(statement) {}
  ~ResetOnExit() { statement_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& statement_;
};

}  // namespace turnout::store
