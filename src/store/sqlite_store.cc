// The SQLite-backed Store: one write transaction per change, prepared statements cached for
// the life of the store, bodies in the store's own JSON codec (model_json.h).
#include <chrono>
#include <filesystem>
#include <limits>
#include <system_error>

#include "store/model_json.h"
#include "store/schema.h"
#include "store/sqlite_statement.h"
#include "store/store.h"

namespace turnout::store {

namespace {

using Kind = route::Change::Kind;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The log's name column: the route id or service name the change is about, "" for replace_all.
std::string_view changeName(const route::Change& change) {
  switch (change.kind) {
    case Kind::kUpsertRoute:
      return change.route.id;
    case Kind::kUpsertService:
      return change.service.name;
    case Kind::kRemoveRoute:
    case Kind::kRemoveService:
      return change.name;
    case Kind::kReplaceAll:
      break;
  }
  return {};
}

// The statements a store reuses, with their SQL beside them so each reads as one line.
struct Statements {
  Statement begin_write, begin_read, commit, rollback;
  Statement get_meta, set_meta;
  Statement upsert_service, delete_service, insert_service, clear_services, select_services;
  Statement upsert_route, delete_route, insert_route, clear_routes, select_routes;
  Statement insert_listener, clear_listeners, select_listeners;
  Statement insert_change, prune_changes, select_changes, oldest_change;

  bool prepare(Database& db, std::string& error) {
    // A new object goes last (MAX + 1); ON CONFLICT updates the body only, so a replaced
    // object keeps its row and therefore its position.
    const std::pair<Statement*, const char*> all[] = {
        {&begin_write, "BEGIN IMMEDIATE"},
        {&begin_read, "BEGIN DEFERRED"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&get_meta, "SELECT value FROM meta WHERE key = ?1"},
        {&set_meta,
         "INSERT INTO meta(key, value) VALUES (?1, ?2) "
         "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
        {&upsert_service,
         "INSERT INTO services(name, position, body) "
         "VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM services), ?2) "
         "ON CONFLICT(name) DO UPDATE SET body = excluded.body"},
        {&delete_service, "DELETE FROM services WHERE name = ?1"},
        {&insert_service, "INSERT INTO services(name, position, body) VALUES (?1, ?2, ?3)"},
        {&clear_services, "DELETE FROM services"},
        {&select_services, "SELECT body FROM services ORDER BY position"},
        {&upsert_route,
         "INSERT INTO routes(id, position, body) "
         "VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM routes), ?2) "
         "ON CONFLICT(id) DO UPDATE SET body = excluded.body"},
        {&delete_route, "DELETE FROM routes WHERE id = ?1"},
        {&insert_route, "INSERT INTO routes(id, position, body) VALUES (?1, ?2, ?3)"},
        {&clear_routes, "DELETE FROM routes"},
        {&select_routes, "SELECT body FROM routes ORDER BY position"},
        {&insert_listener, "INSERT INTO listeners(position, body) VALUES (?1, ?2)"},
        {&clear_listeners, "DELETE FROM listeners"},
        {&select_listeners, "SELECT body FROM listeners ORDER BY position"},
        {&insert_change,
         "INSERT INTO changes(revision, time_ms, kind, name, source, object) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&prune_changes, "DELETE FROM changes WHERE revision <= ?1"},
        {&select_changes,
         "SELECT revision, time_ms, kind, name, source, object FROM changes "
         "WHERE revision > ?1 ORDER BY revision LIMIT ?2"},
        {&oldest_change, "SELECT MIN(revision) FROM changes"},
    };
    for (const auto& [statement, sql] : all) {
      if (!statement->prepare(db, sql, error)) return false;
    }
    return true;
  }
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& options) : options_(options) {}

  bool open(const std::string& path, std::string& error);

  bool load(Snapshot& out, std::string& error) override;
  bool commit(const route::Change& change, uint64_t revision, std::string_view source,
              std::string_view config_file_digest, std::string& error) override;
  bool changesSince(uint64_t since, size_t limit, std::vector<ChangeRecord>& out, bool* truncated,
                    std::string& error) override;
  uint64_t revision() const override { return revision_; }

 private:
  // Everything commit() does between BEGIN and COMMIT; false leaves the rollback to commit().
  bool applyInTransaction(const route::Change& change, uint64_t revision, std::string_view source,
                          std::string_view digest, std::string& error);
  bool applyObjects(const route::Change& change, std::string& object_json, std::string& error);
  bool replaceAll(const config::Config& config, std::string& error);
  bool removeOne(Statement& statement, std::string_view what, const std::string& key,
                 std::string& error);
  bool appendChange(const route::Change& change, uint64_t revision, std::string_view source,
                    const std::string& object_json, std::string& error);
  bool readMetaInt(const char* key, int64_t& value, std::string& error);
  bool readMetaText(const char* key, std::string& value, std::string& error);
  bool setMeta(const char* key, int64_t value, std::string& error);
  bool setMeta(const char* key, std::string_view value, std::string& error);
  template <typename T>
  bool loadTable(Statement& select, std::vector<T>& out, std::string& error);
  bool loadInTransaction(Snapshot& out, std::string& error);
  bool oldestLogged(int64_t& oldest, bool& empty, std::string& error);
  void rollback();

  SqliteOptions options_;
  // Declared before statements_ so it is destroyed after them (finalize, then close).
  Database db_;
  Statements statements_;
  uint64_t revision_ = 0;
};

bool SqliteStore::open(const std::string& path, std::string& error) {
  if (!db_.open(path, error)) return false;
  if (!configureConnection(db_, options_.busy_timeout_ms, error) || !ensureSchema(db_, error) ||
      !statements_.prepare(db_, error)) {
    error = path + ": " + error;
    return false;
  }
  int64_t revision = 0;
  if (!readMetaInt("revision", revision, error)) {
    error = path + ": " + error;
    return false;
  }
  revision_ = static_cast<uint64_t>(revision);
  return true;
}

// --- meta -------------------------------------------------------------------------------

bool SqliteStore::readMetaInt(const char* key, int64_t& value, std::string& error) {
  Statement& select = statements_.get_meta;
  ResetOnExit guard(select);
  select.bind(1, key);
  Statement::Step step = select.step();
  if (step == Statement::Step::kError) {
    error = select.lastError();
    return false;
  }
  value = step == Statement::Step::kRow ? select.columnInt(0) : 0;
  return true;
}

bool SqliteStore::readMetaText(const char* key, std::string& value, std::string& error) {
  Statement& select = statements_.get_meta;
  ResetOnExit guard(select);
  select.bind(1, key);
  Statement::Step step = select.step();
  if (step == Statement::Step::kError) {
    error = select.lastError();
    return false;
  }
  value = step == Statement::Step::kRow ? std::string(select.columnText(0)) : std::string();
  return true;
}

bool SqliteStore::setMeta(const char* key, int64_t value, std::string& error) {
  statements_.set_meta.bind(1, key);
  statements_.set_meta.bind(2, value);
  return statements_.set_meta.run(error);
}

bool SqliteStore::setMeta(const char* key, std::string_view value, std::string& error) {
  statements_.set_meta.bind(1, key);
  statements_.set_meta.bind(2, value);
  return statements_.set_meta.run(error);
}

// --- commit -----------------------------------------------------------------------------

bool SqliteStore::commit(const route::Change& change, uint64_t revision, std::string_view source,
                         std::string_view config_file_digest, std::string& error) {
  if (!statements_.begin_write.run(error)) {
    error = "cannot start a write transaction: " + error;
    return false;
  }
  if (!applyInTransaction(change, revision, source, config_file_digest, error)) {
    rollback();
    return false;
  }
  // With synchronous=FULL the WAL is fsynced before COMMIT returns: durable from here on.
  if (!statements_.commit.run(error)) {
    error = "commit failed: " + error;
    rollback();
    return false;
  }
  revision_ = revision;
  return true;
}

void SqliteStore::rollback() {
  // SQLite rolls back by itself after some errors (e.g. SQLITE_FULL); ROLLBACK then fails, so
  // only issue it while a transaction is still open.
  if (!db_.inTransaction()) return;
  std::string ignored;
  statements_.rollback.run(ignored);
}

bool SqliteStore::applyInTransaction(const route::Change& change, uint64_t revision,
                                     std::string_view source, std::string_view digest,
                                     std::string& error) {
  // The stored revision, not revision_: another process may have written the file since.
  int64_t current = 0;
  if (!readMetaInt("revision", current, error)) return false;
  if (revision != static_cast<uint64_t>(current) + 1 ||
      revision > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    error = "revision " + std::to_string(revision) + " is not the stored revision + 1 (stored " +
            std::to_string(current) + ")";
    return false;
  }
  std::string object_json;
  if (!applyObjects(change, object_json, error)) return false;
  if (!appendChange(change, revision, source, object_json, error)) return false;
  if (!setMeta("revision", static_cast<int64_t>(revision), error)) return false;
  if (!digest.empty() && !setMeta("config_file_digest", digest, error)) return false;
  return true;
}

bool SqliteStore::applyObjects(const route::Change& change, std::string& object_json,
                               std::string& error) {
  Statements& s = statements_;
  switch (change.kind) {
    case Kind::kReplaceAll:
      return replaceAll(change.all, error);
    case Kind::kUpsertRoute:
      object_json = encode(change.route);
      s.upsert_route.bind(1, change.route.id);
      s.upsert_route.bind(2, object_json);
      return s.upsert_route.run(error);
    case Kind::kRemoveRoute:
      return removeOne(s.delete_route, "route", change.name, error);
    case Kind::kUpsertService:
      object_json = encode(change.service);
      s.upsert_service.bind(1, change.service.name);
      s.upsert_service.bind(2, object_json);
      return s.upsert_service.run(error);
    case Kind::kRemoveService:
      return removeOne(s.delete_service, "service", change.name, error);
  }
  error = "unknown change kind";
  return false;
}

bool SqliteStore::removeOne(Statement& statement, std::string_view what, const std::string& key,
                            std::string& error) {
  statement.bind(1, key);
  if (!statement.run(error)) return false;
  if (db_.changes() == 1) return true;
  error = "no " + std::string(what) + " '" + key + "' in the store";
  return false;
}

namespace {

// Inserts services or routes under their names or ids, positions from 1 in document order.
template <class Item, class KeyOf>
bool insertInOrder(Statement& insert, const std::vector<Item>& items, KeyOf key_of,
                   std::string& error) {
  int64_t position = 0;
  for (const Item& item : items) {
    const std::string body = encode(item);
    insert.bind(1, key_of(item));
    insert.bind(2, ++position);
    insert.bind(3, body);
    if (!insert.run(error)) return false;
  }
  return true;
}

}  // namespace

bool SqliteStore::replaceAll(const config::Config& config, std::string& error) {
  Statements& s = statements_;
  if (!s.clear_listeners.run(error) || !s.clear_services.run(error) || !s.clear_routes.run(error)) {
    return false;
  }
  // Positions restart at 1 in document order; a duplicate name or id violates the primary key
  // and rolls the whole change back.
  int64_t position = 0;
  for (const auto& listener : config.listeners) {
    std::string body = encode(listener);
    s.insert_listener.bind(1, ++position);
    s.insert_listener.bind(2, body);
    if (!s.insert_listener.run(error)) return false;
  }
  return insertInOrder(
             s.insert_service, config.services,
             [](const config::Service& x) -> const std::string& { return x.name; }, error) &&
         insertInOrder(
             s.insert_route, config.routes,
             [](const config::Route& x) -> const std::string& { return x.id; }, error);
}

bool SqliteStore::appendChange(const route::Change& change, uint64_t revision,
                               std::string_view source, const std::string& object_json,
                               std::string& error) {
  Statement& insert = statements_.insert_change;
  std::string_view name = changeName(change);
  insert.bind(1, static_cast<int64_t>(revision));
  insert.bind(2, nowMs());
  insert.bind(3, kindName(change.kind));
  insert.bind(4, name);
  insert.bind(5, source);
  insert.bind(6, object_json);
  if (!insert.run(error)) return false;
  // Keep the last change_log_limit changes. The delete seeks the primary key, so when there
  // is nothing to prune it costs one b-tree descent.
  auto limit = static_cast<uint64_t>(options_.change_log_limit);
  if (revision <= limit) return true;
  statements_.prune_changes.bind(1, static_cast<int64_t>(revision - limit));
  return statements_.prune_changes.run(error);
}

// --- reads ------------------------------------------------------------------------------

template <typename T>
bool SqliteStore::loadTable(Statement& select, std::vector<T>& out, std::string& error) {
  ResetOnExit guard(select);
  for (;;) {
    Statement::Step step = select.step();
    if (step == Statement::Step::kDone) return true;
    if (step == Statement::Step::kError) {
      error = select.lastError();
      return false;
    }
    if (!decode(select.columnText(0), out.emplace_back(), error)) return false;
  }
}

bool SqliteStore::loadInTransaction(Snapshot& out, std::string& error) {
  int64_t revision = 0;
  if (!readMetaInt("revision", revision, error) ||
      !readMetaText("config_file_digest", out.config_file_digest, error)) {
    return false;
  }
  out.revision = static_cast<uint64_t>(revision);
  return loadTable(statements_.select_listeners, out.config.listeners, error) &&
         loadTable(statements_.select_services, out.config.services, error) &&
         loadTable(statements_.select_routes, out.config.routes, error);
}

bool SqliteStore::load(Snapshot& out, std::string& error) {
  out = Snapshot{};
  // One read transaction, so a writer in another process cannot tear the model.
  if (!statements_.begin_read.run(error)) return false;
  bool ok = loadInTransaction(out, error);
  rollback();  // read-only: ending it either way changes nothing
  if (!ok) {
    error = "loading the store: " + error;
    out = Snapshot{};
    return false;
  }
  revision_ = out.revision;
  return true;
}

bool SqliteStore::oldestLogged(int64_t& oldest, bool& empty, std::string& error) {
  Statement& select = statements_.oldest_change;
  ResetOnExit guard(select);
  if (select.step() != Statement::Step::kRow) {
    error = select.lastError();
    return false;
  }
  empty = select.columnIsNull(0);
  oldest = empty ? 0 : select.columnInt(0);
  return true;
}

bool SqliteStore::changesSince(uint64_t since, size_t limit, std::vector<ChangeRecord>& out,
                               bool* truncated, std::string& error) {
  out.clear();
  if (!statements_.begin_read.run(error)) return false;
  int64_t current = 0, oldest = 0;
  bool empty = true;
  bool ok = readMetaInt("revision", current, error) && oldestLogged(oldest, empty, error);
  if (ok && truncated != nullptr) {
    // Revision since+1 exists but the log starts after it (or holds nothing).
    bool missing_next = since < static_cast<uint64_t>(current) &&
                        (empty || static_cast<uint64_t>(oldest) > since + 1);
    *truncated = missing_next;
  }
  Statement& select = statements_.select_changes;
  if (ok) {
    ResetOnExit guard(select);
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    select.bind(1, static_cast<int64_t>(std::min<uint64_t>(since, kMax)));
    select.bind(2, static_cast<int64_t>(std::min<uint64_t>(limit, kMax)));
    for (;;) {
      Statement::Step step = select.step();
      if (step == Statement::Step::kDone) break;
      if (step == Statement::Step::kError) {
        error = select.lastError();
        ok = false;
        break;
      }
      ChangeRecord& record = out.emplace_back();
      record.revision = static_cast<uint64_t>(select.columnInt(0));
      record.time_ms = select.columnInt(1);
      record.kind = select.columnText(2);
      record.name = select.columnText(3);
      record.source = select.columnText(4);
      record.object_json = select.columnText(5);
    }
  }
  rollback();
  if (!ok) out.clear();
  return ok;
}

}  // namespace

std::string_view kindName(route::Change::Kind kind) {
  switch (kind) {
    case Kind::kReplaceAll:
      return "replace_all";
    case Kind::kUpsertRoute:
      return "upsert_route";
    case Kind::kRemoveRoute:
      return "remove_route";
    case Kind::kUpsertService:
      return "upsert_service";
    case Kind::kRemoveService:
      return "remove_service";
  }
  return "unknown";
}

std::unique_ptr<Store> openSqliteStore(const std::string& path, std::string& error) {
  return openSqliteStore(path, SqliteOptions{}, error);
}

std::unique_ptr<Store> openSqliteStore(const std::string& path, const SqliteOptions& options,
                                       std::string& error) {
  // The default data dir (./turnout-data) may not exist yet on a first start.
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (path != ":memory:" && !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      error = "cannot create directory " + parent.string() + ": " + ec.message();
      return nullptr;
    }
  }
  auto store = std::make_unique<SqliteStore>(options);
  if (!store->open(path, error)) return nullptr;
  return store;
}

}  // namespace turnout::store
