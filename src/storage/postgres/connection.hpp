// A libpq connection with prepared statements cached per connection, a fixed-size
// pool of them, and a transaction runner that retries what PostgreSQL aborts for
// concurrency (deadlock, serialization failure). Internal to storage/postgres/:
// the only header that includes libpq. A Connection is used by one thread at a
// time (the pool lends it out); the Pool is thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "core/error.hpp"

// Evaluates a Result-returning expression into `var`, returning its error from
// the enclosing function when it failed (the same macro as storage/sqlite/).
#ifndef DX_TRY
#define DX_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return tl::unexpected(var.error())
#endif

namespace dx::storage::postgres {

// The rows a statement returned, as text (libpq's text format).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  ~Rows() {
    if (result_) PQclear(result_);
  }
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const { return PQntuples(result_); }
  bool empty() const { return size() == 0; }
  std::string Text(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column),
                       static_cast<std::size_t>(PQgetlength(result_, row, column)));
  }
  // An integer column; 0 for NULL.
  std::int64_t Int(int row, int column) const;

 private:
  PGresult* result_;
};

class Connection {
 public:
  // Connects to `conninfo` (URL or key=value), sets `schema` (when not empty)
  // first on the search_path, and turns synchronous_commit off unless `durable`.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo, const std::string& schema,
                                                  bool durable);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One or more statements without parameters or rows (BEGIN, COMMIT, DDL).
  Result<void> Execute(const std::string& sql);
  // `sql` with $1..$n bound to `params`, prepared on first use and kept for the
  // connection's life: for the fixed statements of ingest and lookups.
  Result<Rows> Prepared(const std::string& sql, const std::vector<std::string>& params);
  // `sql` planned for these very values, not prepared: for searches, where a
  // wildcard's literal prefix or a range decides whether an index can serve.
  Result<Rows> Query(const std::string& sql, const std::vector<std::string>& params);

  // SQLSTATE of the last statement that failed ("" when it succeeded).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Reconnects when the connection was lost (server restart, network), so a
  // pooled connection recovers once the server is back.
  Result<void> EnsureConnected();

  static constexpr std::size_t kMaxPreparedStatements = 256;

 private:
  Connection(PGconn* conn, std::string schema, bool durable)
      : conn_(conn), schema_(std::move(schema)), durable_(durable) {}
  Result<void> SetUpSession();
  Result<Rows> Finish(PGresult* result);
  Result<Rows> PreparedOnce(const std::string& sql, const std::vector<std::string>& params);
  Result<Rows> QueryOnce(const std::string& sql, const std::vector<std::string>& params);
  // Runs `run` again on a new connection when the server had dropped this one
  // while no transaction was open (so nothing can have been half done).
  template <typename Run>
  Result<Rows> Reconnecting(Run run);
  Result<void> CheckParams(const std::vector<std::string>& params);

  PGconn* conn_;
  std::string schema_;
  bool durable_;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::string last_sqlstate_;
};

// A fixed set of connections lent out one at a time.
class Pool {
 public:
  static Result<std::unique_ptr<Pool>> Open(const std::string& conninfo, const std::string& schema, bool durable,
                                            int size);

  // A borrowed connection, given back when the lease ends.
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> connection)
        : pool_(&pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_) pool_->Release(std::move(connection_));
    }
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // Waits for a free connection; reconnects it if it was lost.
  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> connection);

  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// SQL with "?" placeholders rewritten as libpq's numbered ones ($1, $2, ...).
std::string NumberedPlaceholders(const std::string& sql);

// The current UTC time as ISO 8601 text ("2026-11-23T09:00:00Z"), in SQL.
inline constexpr char kUtcNowSql[] = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

// SQLSTATEs after which running the whole transaction again can succeed.
bool IsRetryable(const std::string& sqlstate, bool unique_violation_too);

// Runs `body()` between BEGIN and COMMIT on `c`, rolling back when it fails.
// When PostgreSQL aborts the transaction for a deadlock or a serialization
// failure (or, with `retry_unique_violation`, because a concurrent transaction
// inserted the same key first), the transaction runs again, a few times.
template <typename Body>
auto InTransaction(Connection& c, Body body, bool retry_unique_violation = false) -> decltype(body()) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    if (auto begun = c.Execute("BEGIN"); !begun) return tl::unexpected(begun.error());
    auto result = body();
    if (result) {
      auto committed = c.Execute("COMMIT");
      if (committed) return result;
      result = tl::unexpected(committed.error());
    }
    const std::string sqlstate = c.last_sqlstate();
    (void)c.Execute("ROLLBACK");
    if (attempt == kAttempts || !IsRetryable(sqlstate, retry_unique_violation)) return result;
  }
}

}  // namespace dx::storage::postgres
