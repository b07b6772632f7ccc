// The store's schema and its migrations (private to src/store).
#pragma once

#include <string>

#include "store/sqlite_statement.h"

namespace turnout::store {

// The schema this binary writes. A database with a higher schema_version was written by a
// newer turnout and is refused rather than guessed at.
inline constexpr int kSchemaVersion = 1;

// Sets the connection's pragmas (WAL, synchronous=FULL, foreign_keys, busy_timeout). This is
// the first statement that reads the file, so "file is not a database" surfaces here.
bool configureConnection(Database& db, int busy_timeout_ms, std::string& error);

// Creates the schema in an empty database or migrates an older one, in one transaction.
bool ensureSchema(Database& db, std::string& error);

}  // namespace turnout::store
