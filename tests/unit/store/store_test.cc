// The SQLite store: persistence of every change kind across reopen, order, revisions,
// all-or-nothing commits, the change log, digests, refusal of bad files, crash safety and a
// second writer.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "store/model_json.h"
#include "store/store.h"
#include "store_test_util.h"

namespace turnout::store {
namespace {

using route::Change;
using testing_util::makeListener;
using testing_util::makeRoute;
using testing_util::makeService;
using testing_util::same;
using testing_util::sameConfig;
using testing_util::TempDir;

Change upsertRoute(const config::Route& route) {
  Change change;
  change.kind = Change::Kind::kUpsertRoute;
  change.route = route;
  return change;
}

Change upsertService(const config::Service& service) {
  Change change;
  change.kind = Change::Kind::kUpsertService;
  change.service = service;
  return change;
}

Change remove(Change::Kind kind, const std::string& name) {
  Change change;
  change.kind = kind;
  change.name = name;
  return change;
}

Change replaceAll(const config::Config& config) {
  Change change;
  change.kind = Change::Kind::kReplaceAll;
  change.all = config;
  return change;
}

config::Config sampleConfig(int services, int routes) {
  config::Config config;
  config.listeners = {makeListener(1), makeListener(2)};
  for (int i = 0; i < services; ++i) config.services.push_back(makeService(i));
  for (int i = 0; i < routes; ++i) config.routes.push_back(makeRoute(i));
  return config;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.file("turnout.db");
  }

  std::unique_ptr<Store> open(const SqliteOptions& options = {}) {
    std::string error;
    auto store = openSqliteStore(path_, options, error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }

  // Commits with revision current + 1 and source "api"; fails the test on error.
  void commitNext(Store& store, const Change& change, std::string_view digest = "") {
    std::string error;
    ASSERT_TRUE(store.commit(change, store.revision() + 1, "api", digest, error)) << error;
  }

  static Snapshot loadOrFail(Store& store) {
    Snapshot snapshot;
    std::string error;
    EXPECT_TRUE(store.load(snapshot, error)) << error;
    return snapshot;
  }

  // Opens a new Store object on the file and loads it: what a restart sees.
  Snapshot reload() {
    auto store = open();
    if (store == nullptr) return {};
    return loadOrFail(*store);
  }

  std::vector<ChangeRecord> changes(Store& store, uint64_t since, size_t limit,
                                    bool* truncated = nullptr) {
    std::vector<ChangeRecord> out;
    std::string error;
    EXPECT_TRUE(store.changesSince(since, limit, out, truncated, error)) << error;
    return out;
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(StoreTest, FreshStoreLoadsEmptyAtRevisionZero) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->revision(), 0u);
  Snapshot snapshot = loadOrFail(*store);
  EXPECT_EQ(snapshot.revision, 0u);
  EXPECT_EQ(snapshot.config_file_digest, "");
  EXPECT_TRUE(snapshot.config.listeners.empty());
  EXPECT_TRUE(snapshot.config.services.empty());
  EXPECT_TRUE(snapshot.config.routes.empty());
  bool truncated = true;
  EXPECT_TRUE(changes(*store, 0, 10, &truncated).empty());
  EXPECT_FALSE(truncated);
}

TEST_F(StoreTest, EveryChangeKindPersistsAcrossReopenInOrder) {
  config::Config expected = sampleConfig(3, 3);
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    commitNext(*store, replaceAll(expected));
    // Replacing route-1 keeps its place; route-9 is new and goes last.
    config::Route changed = makeRoute(1);
    changed.priority = 42;
    changed.split = {{"svc-2", "", 1}};
    commitNext(*store, upsertRoute(changed));
    expected.routes[1] = changed;
    commitNext(*store, upsertRoute(makeRoute(9)));
    expected.routes.push_back(makeRoute(9));
    commitNext(*store, remove(Change::Kind::kRemoveRoute, "route-0"));
    expected.routes.erase(expected.routes.begin());
    // Same for services: svc-0 replaced in place, svc-7 appended, svc-1 removed.
    config::Service service = makeService(0, 5);
    service.lb = "round_robin";
    commitNext(*store, upsertService(service));
    expected.services[0] = service;
    commitNext(*store, upsertService(makeService(7)));
    expected.services.push_back(makeService(7));
    commitNext(*store, remove(Change::Kind::kRemoveService, "svc-1"));
    expected.services.erase(expected.services.begin() + 1);
    EXPECT_EQ(store->revision(), 7u);
  }
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.revision, 7u);
  EXPECT_TRUE(sameConfig(snapshot.config, expected));
}

TEST_F(StoreTest, ReplaceAllReplacesEverythingWholesale) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  commitNext(*store, replaceAll(sampleConfig(5, 5)));
  commitNext(*store, upsertRoute(makeRoute(100)));
  config::Config next;
  next.listeners = {makeListener(9)};
  next.services = {makeService(50), makeService(4)};
  next.routes = {makeRoute(60), makeRoute(2), makeRoute(61)};
  commitNext(*store, replaceAll(next));
  EXPECT_TRUE(sameConfig(reload().config, next));
  // An empty replace_all empties the store.
  commitNext(*store, replaceAll({}));
  EXPECT_TRUE(sameConfig(reload().config, {}));
  // A route upserted after a replace_all goes after the replaced ones.
  commitNext(*store, replaceAll(next));
  commitNext(*store, upsertRoute(makeRoute(70)));
  next.routes.push_back(makeRoute(70));
  EXPECT_TRUE(sameConfig(reload().config, next));
}

TEST_F(StoreTest, ReAddedObjectGoesLast) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 3; ++i) commitNext(*store, upsertRoute(makeRoute(i)));
  commitNext(*store, remove(Change::Kind::kRemoveRoute, "route-0"));
  commitNext(*store, upsertRoute(makeRoute(0)));
  Snapshot snapshot = reload();
  ASSERT_EQ(snapshot.config.routes.size(), 3u);
  EXPECT_EQ(snapshot.config.routes[0].id, "route-1");
  EXPECT_EQ(snapshot.config.routes[1].id, "route-2");
  EXPECT_EQ(snapshot.config.routes[2].id, "route-0");
}

TEST_F(StoreTest, RevisionMustBeCurrentPlusOne) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  commitNext(*store, replaceAll(sampleConfig(2, 2)));
  commitNext(*store, upsertRoute(makeRoute(5)));
  ASSERT_EQ(store->revision(), 2u);
  for (uint64_t wrong : {0ull, 1ull, 2ull, 4ull, 1000ull, ~0ull}) {
    std::string error;
    EXPECT_FALSE(store->commit(upsertRoute(makeRoute(77)), wrong, "api", "digest", error)) << wrong;
    EXPECT_NE(error.find("revision"), std::string::npos) << error;
  }
  EXPECT_EQ(store->revision(), 2u);
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.revision, 2u);
  EXPECT_EQ(snapshot.config_file_digest, "");
  EXPECT_EQ(snapshot.config.routes.size(), 3u);
  EXPECT_EQ(changes(*store, 0, 100).size(), 2u);
  commitNext(*store, upsertRoute(makeRoute(77)));
  EXPECT_EQ(store->revision(), 3u);
}

// A change that fails half-way (after rows were already written inside the transaction)
// leaves the store exactly as it was: objects, revision, log and digest.
TEST_F(StoreTest, FailedCommitLeavesStoreUnchanged) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  config::Config original = sampleConfig(4, 4);
  commitNext(*store, replaceAll(original), "digest-1");

  config::Config duplicate_route = sampleConfig(6, 6);
  duplicate_route.routes.push_back(makeRoute(3));  // PRIMARY KEY violation on the last insert
  config::Config empty_service_name = sampleConfig(6, 6);
  empty_service_name.services.back().name = "";  // CHECK violation
  config::Route empty_id = makeRoute(1);
  empty_id.id = "";
  const Change failing[] = {
      replaceAll(duplicate_route),
      replaceAll(empty_service_name),
      upsertRoute(empty_id),
      remove(Change::Kind::kRemoveRoute, "no-such-route"),
      remove(Change::Kind::kRemoveService, "no-such-service"),
  };
  for (const Change& change : failing) {
    std::string error;
    EXPECT_FALSE(store->commit(change, 2, "api", "digest-2", error));
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(store->revision(), 1u);
  }
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.revision, 1u);
  EXPECT_EQ(snapshot.config_file_digest, "digest-1");
  EXPECT_TRUE(sameConfig(snapshot.config, original));
  EXPECT_EQ(changes(*store, 0, 100).size(), 1u);
  // And the store still works.
  commitNext(*store, remove(Change::Kind::kRemoveRoute, "route-3"));
  EXPECT_EQ(reload().config.routes.size(), 3u);
}

TEST_F(StoreTest, ChangeLogRecordsEveryChange) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string error;
  ASSERT_TRUE(store->commit(replaceAll(sampleConfig(2, 2)), 1, "config-file", "d", error));
  commitNext(*store, upsertRoute(makeRoute(5)));
  commitNext(*store, remove(Change::Kind::kRemoveRoute, "route-0"));
  commitNext(*store, upsertService(makeService(9)));
  commitNext(*store, remove(Change::Kind::kRemoveService, "svc-9"));
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();

  std::vector<ChangeRecord> log = changes(*store, 0, 100);
  ASSERT_EQ(log.size(), 5u);
  const char* kinds[] = {"replace_all", "upsert_route", "remove_route", "upsert_service",
                         "remove_service"};
  const char* names[] = {"", "route-5", "route-0", "svc-9", "svc-9"};
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].revision, i + 1);
    EXPECT_EQ(log[i].kind, kinds[i]);
    EXPECT_EQ(log[i].name, names[i]);
    EXPECT_EQ(log[i].source, i == 0 ? "config-file" : "api");
    EXPECT_GE(log[i].time_ms, before);
    EXPECT_LE(log[i].time_ms, after);
  }
  EXPECT_EQ(log[0].object_json, "");
  EXPECT_EQ(log[2].object_json, "");
  EXPECT_EQ(log[4].object_json, "");
  config::Route route;
  ASSERT_TRUE(decode(log[1].object_json, route, error)) << error;
  EXPECT_TRUE(same(route, makeRoute(5)));
  config::Service service;
  ASSERT_TRUE(decode(log[3].object_json, service, error)) << error;
  EXPECT_TRUE(same(service, makeService(9)));
}

TEST_F(StoreTest, ChangesSinceHonoursSinceAndLimit) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) commitNext(*store, upsertRoute(makeRoute(i)));
  bool truncated = true;
  std::vector<ChangeRecord> page = changes(*store, 3, 4, &truncated);
  EXPECT_FALSE(truncated);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page.front().revision, 4u);
  EXPECT_EQ(page.back().revision, 7u);
  EXPECT_EQ(changes(*store, 7, 100).size(), 3u);
  EXPECT_TRUE(changes(*store, 10, 100, &truncated).empty());
  EXPECT_FALSE(truncated);
  EXPECT_TRUE(changes(*store, 50, 100, &truncated).empty());
  EXPECT_FALSE(truncated);
  EXPECT_TRUE(changes(*store, 0, 0).empty());
  EXPECT_EQ(changes(*store, 0, SIZE_MAX).size(), 10u);
}

TEST_F(StoreTest, ChangeLogIsPrunedAndTruncationReported) {
  SqliteOptions options;
  options.change_log_limit = 5;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 12; ++i) commitNext(*store, upsertRoute(makeRoute(i)));
  bool truncated = false;
  std::vector<ChangeRecord> log = changes(*store, 0, 100, &truncated);
  EXPECT_TRUE(truncated);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log.front().revision, 8u);
  EXPECT_EQ(log.back().revision, 12u);
  changes(*store, 6, 100, &truncated);
  EXPECT_TRUE(truncated);  // revision 7 is gone
  log = changes(*store, 7, 100, &truncated);
  EXPECT_FALSE(truncated);  // revision 8 is the oldest kept
  EXPECT_EQ(log.size(), 5u);
  // Pruning never touches the objects.
  EXPECT_EQ(reload().config.routes.size(), 12u);
}

TEST_F(StoreTest, ConfigFileDigestPersists) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    commitNext(*store, replaceAll(sampleConfig(1, 1)), "sha256:aaa");
    commitNext(*store, upsertRoute(makeRoute(3)));  // no digest: keeps the previous one
  }
  EXPECT_EQ(reload().config_file_digest, "sha256:aaa");
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->revision(), 2u);
    commitNext(*store, replaceAll(sampleConfig(2, 2)), "sha256:bbb");
  }
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.config_file_digest, "sha256:bbb");
  EXPECT_EQ(snapshot.revision, 3u);
}

TEST_F(StoreTest, CreatesMissingParentDirectories) {
  std::string path = dir_.file("a/b/turnout.db");
  std::string error;
  auto store = openSqliteStore(path, error);
  ASSERT_NE(store, nullptr) << error;
  commitNext(*store, upsertRoute(makeRoute(1)));
  store.reset();
  store = openSqliteStore(path, error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(store->revision(), 1u);
}

TEST_F(StoreTest, FileThatIsNotADatabaseIsRefusedClearly) {
  {
    std::ofstream file(path_, std::ios::binary);
    for (int i = 0; i < 200; ++i) file << "this is not a database, just text\n";
  }
  std::string error;
  EXPECT_EQ(openSqliteStore(path_, error), nullptr);
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
  EXPECT_NE(error.find(path_), std::string::npos) << error;
}

TEST_F(StoreTest, ForeignSqliteDatabaseIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  EXPECT_EQ(openSqliteStore(path_, error), nullptr);
  EXPECT_NE(error.find("schema_version"), std::string::npos) << error;
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  ASSERT_NE(open(), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  EXPECT_EQ(openSqliteStore(path_, error), nullptr);
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST_F(StoreTest, UnopenablePathIsAnError) {
  std::string error;
  // A directory where the file should be.
  std::filesystem::create_directories(path_);
  EXPECT_EQ(openSqliteStore(path_, error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST_F(StoreTest, CorruptBodyFailsLoadWithError) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    commitNext(*store, upsertRoute(makeRoute(1)));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE routes SET body = '{broken'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = open();
  ASSERT_NE(store, nullptr);
  Snapshot snapshot;
  std::string error;
  EXPECT_FALSE(store->load(snapshot, error));
  EXPECT_NE(error.find("loading the store"), std::string::npos) << error;
  EXPECT_TRUE(snapshot.config.routes.empty());
}

// Crash-safety proxy: a child process commits 200 changes and is killed with SIGKILL right
// after the last commit returns, without closing anything. Every change must be there.
TEST_F(StoreTest, AcknowledgedCommitsSurviveSigkill) {
  constexpr int kChanges = 200;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    auto store = openSqliteStore(path_, error);
    if (store == nullptr) _exit(2);
    for (int i = 0; i < kChanges; ++i) {
      Change change = i % 2 == 0 ? upsertRoute(makeRoute(i)) : upsertService(makeService(i));
      if (!store->commit(change, store->revision() + 1, "api", "", error)) _exit(3);
    }
    raise(SIGKILL);
    _exit(4);  // not reached
  }
  int status = 0;
  // Bounded wait: 60 s at 10 ms steps, then kill the child so a hang fails instead of blocking.
  pid_t done = 0;
  for (int i = 0; i < 6000 && done == 0; ++i) {
    done = waitpid(child, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL() << "child did not finish";
  }
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.revision, static_cast<uint64_t>(kChanges));
  EXPECT_EQ(snapshot.config.routes.size(), kChanges / 2u);
  EXPECT_EQ(snapshot.config.services.size(), kChanges / 2u);
  EXPECT_TRUE(same(snapshot.config.routes.back(), makeRoute(kChanges - 2)));
}

TEST_F(StoreTest, ManyCommitsSurviveCloseAndReopen) {
  constexpr int kChanges = 200;
  config::Config expected;
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kChanges; ++i) {
      commitNext(*store, upsertRoute(makeRoute(i % 50)));  // 50 routes rewritten 4 times
    }
  }
  for (int i = 0; i < 50; ++i) expected.routes.push_back(makeRoute(i));
  Snapshot snapshot = reload();
  EXPECT_EQ(snapshot.revision, static_cast<uint64_t>(kChanges));
  EXPECT_TRUE(sameConfig(snapshot.config, expected));
}

// A second Store on the same file that has fallen behind gets a revision error, never a
// silent interleaving; load() brings it up to date.
TEST_F(StoreTest, StaleSecondStoreIsRefusedUntilItReloads) {
  auto first = open();
  auto second = open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  commitNext(*first, upsertRoute(makeRoute(1)));
  std::string error;
  EXPECT_FALSE(second->commit(upsertRoute(makeRoute(2)), 1, "api", "", error));
  EXPECT_NE(error.find("revision"), std::string::npos) << error;
  Snapshot snapshot = loadOrFail(*second);
  EXPECT_EQ(snapshot.revision, 1u);
  EXPECT_EQ(second->revision(), 1u);
  commitNext(*second, upsertRoute(makeRoute(2)));
  EXPECT_EQ(loadOrFail(*first).config.routes.size(), 2u);
}

// Another connection holding the write lock: a commit waits up to busy_timeout and then fails
// cleanly with nothing changed; once the lock is released, commits go through.
TEST_F(StoreTest, BusyDatabaseIsWaitedForThenReported) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  commitNext(*store, upsertRoute(makeRoute(1)));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string error;
  EXPECT_FALSE(store->commit(upsertRoute(makeRoute(2)), 2, "api", "", error));
  EXPECT_NE(error.find("locked"), std::string::npos) << error;
  EXPECT_EQ(store->revision(), 1u);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  commitNext(*store, upsertRoute(makeRoute(2)));
  sqlite3_close(other);
  EXPECT_EQ(reload().config.routes.size(), 2u);
}

TEST_F(StoreTest, BusyDatabaseReleasedWithinTimeoutSucceeds) {
  auto store = open();  // default busy_timeout: 5 s
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread releaser([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  std::string error;
  bool ok = store->commit(upsertRoute(makeRoute(1)), 1, "api", "", error);
  releaser.join();
  sqlite3_close(other);
  EXPECT_TRUE(ok) << error;
  EXPECT_EQ(store->revision(), 1u);
}

}  // namespace
}  // namespace turnout::store
