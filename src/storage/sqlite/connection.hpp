// A SQLite connection with a bounded cache of prepared statements, and a
// Statement handle that binds, steps and reads columns. A Connection (and every
// Statement from it) is used by one thread at a time: the index hands
// connections out from a pool, or guards the write connection with a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "core/error.hpp"

// Evaluates a Result-returning expression into `var`, returning its error from
// the enclosing function when it failed.
#define DX_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return tl::unexpected(var.error())

namespace dx::storage::sqlite {

// A prepared statement for one execution. Borrowed from the connection's cache
// (reset on destruction) or, when the cache is full, owned (finalized).
class Statement {
 public:
  Statement(sqlite3_stmt* statement, bool owned) : statement_(statement), owned_(owned) {}
  ~Statement();
  Statement(Statement&& other) noexcept : statement_(other.statement_), owned_(other.owned_) {
    other.statement_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in sqlite3_bind_*.
  Statement& Bind(int index, const std::string& value) {
    sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int index, std::string_view value) {
    sqlite3_bind_blob(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, std::int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → kStorage error.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Result<void> Run();
  std::string Text(int column) const {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                : std::string();
  }
  // The bytes of a BLOB (or of any value, as SQLite converts it).
  std::string_view Blob(int column) const {
    const void* data = sqlite3_column_blob(statement_, column);
    return data ? std::string_view(static_cast<const char*>(data),
                                   static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                : std::string_view();
  }
  bool IsBlob(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_BLOB; }
  std::int64_t Int(int column) const { return sqlite3_column_int64(statement_, column); }

 private:
  sqlite3_stmt* statement_;
  bool owned_;
};

class Connection {
 public:
  // Opens `path` (creating it with kPageSize pages) with WAL journal, busy timeout,
  // foreign keys and synchronous=FULL when `durable`, NORMAL otherwise.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool durable);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement for `sql`, ready to bind: cached per connection so the common
  // shapes are compiled once; past kMaxCachedStatements distinct texts (long
  // UID lists give many shapes) further statements are compiled for one use.
  Result<Statement> Prepare(const std::string& sql);
  Result<void> Execute(const std::string& sql);  // one or more statements, no results
  Result<int> PageSize();                        // of the database file, in bytes
  sqlite3* handle() { return db_; }

  static constexpr std::size_t kMaxCachedStatements = 128;
  // 16 KB rather than SQLite's 4 KB: a random insert into an index dirties one
  // page either way, and with a quarter as many pages a write transaction has
  // fewer to find, split, list and append to the WAL. Storing full blood counts
  // over MLLP took 12–15% less CPU; point reads are about a third slower, still
  // well under a millisecond (docs/performance.md).
  static constexpr int kPageSize = 16384;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

// Runs `body()` inside BEGIN IMMEDIATE … COMMIT on `c`, rolling back when it fails.
// The current UTC time as ISO 8601 text ("2026-11-23T09:00:00Z").
std::string UtcNow();

template <typename Body>
auto InTransaction(Connection& c, Body body) -> decltype(body()) {
  if (auto begun = c.Execute("BEGIN IMMEDIATE"); !begun) return tl::unexpected(begun.error());
  auto result = body();
  if (!result) {
    (void)c.Execute("ROLLBACK");
    return result;
  }
  if (auto committed = c.Execute("COMMIT"); !committed) {
    (void)c.Execute("ROLLBACK");
    return tl::unexpected(committed.error());
  }
  return result;
}

}  // namespace dx::storage::sqlite
