#include "storage/sqlite/connection.hpp"

#include <chrono>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace dx::storage::sqlite {

Statement::~Statement() {
  if (!statement_) return;
  if (owned_) {
    sqlite3_finalize(statement_);
  } else {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(ErrorCode::kStorage,
              fmt::format("index query failed: {}", sqlite3_errmsg(sqlite3_db_handle(statement_))));
}

Result<void> Statement::Run() {
  while (true) {
    auto more = Step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) return {};
  }
}

namespace {

// SQLite counts every allocation under one process-wide mutex unless told not to
// (SQLITE_CONFIG_MEMSTATUS). Threads on connections of their own, such as the
// results applier and the journal thread checking for duplicates, then queue on
// that mutex for every bound value and row: it was two thirds of dxhub's futex
// calls while storing results over MLLP. dxhub reads no SQLite memory statistics.
// sqlite3_config works only before SQLite initialises, so before the first open.
void TurnOffMemoryStatistics() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool durable) {
  TurnOffMemoryStatistics();
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Fail(ErrorCode::kStorage, fmt::format("cannot open index {}: {}", path, message));
  }
  auto connection = std::unique_ptr<Connection>(new Connection(db));
  sqlite3_busy_timeout(db, 10000);
  // The page size applies to a new file only (before WAL mode); an existing one keeps its own.
  const std::string pragmas = fmt::format(
      "PRAGMA page_size={}; PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
      "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;",
      kPageSize, durable ? "FULL" : "NORMAL");
  if (auto ok = connection->Execute(pragmas); !ok) return tl::unexpected(ok.error());
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

Result<int> Connection::PageSize() {
  DX_TRY(pragma, Prepare("PRAGMA page_size"));
  DX_TRY(row, pragma->Step());
  if (!*row || pragma->Int(0) <= 0) return Fail(ErrorCode::kStorage, "PRAGMA page_size gave no size");
  return static_cast<int>(pragma->Int(0));
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return Statement(it->second, false);
  const bool cache = statements_.size() < kMaxCachedStatements;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), cache ? SQLITE_PREPARE_PERSISTENT : 0,
                         &statement, nullptr) != SQLITE_OK) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot prepare index query: {}", sqlite3_errmsg(db_)));
  }
  if (!cache) return Statement(statement, true);
  statements_.emplace(sql, statement);
  return Statement(statement, false);
}

Result<void> Connection::Execute(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return Fail(ErrorCode::kStorage, fmt::format("index statement failed: {}", message));
  }
  return {};
}

std::string UtcNow() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(
                                                  std::chrono::system_clock::now())));
}

}  // namespace dx::storage::sqlite
