#include "store/sqlite_statement.h"

#include <sqlite3.h>

namespace turnout::store {

namespace {

std::string describe(sqlite3* db, int code) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return std::string(message) + " (" + std::to_string(code) + ")";
}

}  // namespace

Database::~Database() {
  // close_v2 defers the close until every statement is finalized, so member order in the
  // owner cannot leak the connection.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

bool Database::open(const std::string& path, std::string& error) {
  // NOMUTEX: one control thread uses the connection at a time (store.h), so SQLite's own
  // per-connection mutex would be pure overhead.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    error = "cannot open " + path + ": " + describe(db_, rc);
    return false;
  }
  sqlite3_extended_result_codes(db_, 1);
  return true;
}

bool Database::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return true;
  error = std::string(message != nullptr ? message : sqlite3_errstr(rc)) + " (" +
          std::to_string(rc) + ")";
  sqlite3_free(message);
  return false;
}

std::string Database::lastError() const { return describe(db_, sqlite3_extended_errcode(db_)); }

int64_t Database::changes() const { return sqlite3_changes64(db_); }

bool Database::inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

bool Statement::prepare(Database& db, const char* sql, std::string& error) {
  db_ = db.handle();
  // PERSISTENT: these statements live as long as the store, a hint for SQLite's allocator.
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc == SQLITE_OK) return true;
  error = "cannot prepare \"" + std::string(sql) + "\": " + describe(db_, rc);
  return false;
}

void Statement::bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::bind(int index, std::string_view text) {
  // A non-null pointer even for "", so the value binds as '' and not as NULL.
  const char* data = text.data() != nullptr ? text.data() : "";
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC);
}

Statement::Step Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return Step::kRow;
  if (rc == SQLITE_DONE) return Step::kDone;
  return Step::kError;
}

bool Statement::run(std::string& error) {
  ResetOnExit guard(*this);
  if (step() == Step::kError) {
    error = lastError();
    return false;
  }
  return true;
}

int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::columnText(int column) const {
  // text first, then bytes: the documented order that yields the length of the UTF-8 form.
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

bool Statement::columnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::lastError() const { return describe(db_, sqlite3_extended_errcode(db_)); }

}  // namespace turnout::store
