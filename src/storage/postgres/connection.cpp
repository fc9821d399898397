#include "storage/postgres/connection.hpp"

#include <charconv>

#include <fmt/format.h>

#include "core/logging.hpp"

namespace dx::storage::postgres {

namespace {

std::string PgTrimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The error table's code for a SQLSTATE (PostgreSQL manual, Appendix A).
ErrorCode PgErrorCode(const std::string& sqlstate) {
  if (sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    return ErrorCode::kUnavailable;  // no answer, connection lost, server shutting down or starting
  }
  if (sqlstate == "23505") return ErrorCode::kConflict;  // unique_violation
  // Data exceptions: a value PostgreSQL cannot hold (invalid UTF-8, NUL, out of range).
  if (sqlstate.rfind("22", 0) == 0) return ErrorCode::kInvalidInput;
  return ErrorCode::kStorage;
}

// Only the primary message and the SQLSTATE: the DETAIL of an error can quote
// row values (patient identifiers among them), which must not reach the logs.
ErrorInfo PgFailure(const char* what, PGconn* conn, const PGresult* result, std::string& sqlstate) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  sqlstate = state ? state : "";
  std::string message = primary ? primary : PgTrimmed(PQerrorMessage(conn));
  if (message.empty()) message = "no answer from the server";
  return ErrorInfo{PgErrorCode(sqlstate),
                   fmt::format("PostgreSQL {} failed: {}{}", what, message,
                               sqlstate.empty() ? "" : fmt::format(" (SQLSTATE {})", sqlstate))};
}

std::string PgQuoteIdentifier(PGconn* conn, const std::string& name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  if (!quoted) return {};
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

// libpq's parameter arrays for `params` (text format, types inferred by the server).
std::vector<const char*> PgValues(const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& value : params) values.push_back(value.c_str());
  return values;
}

}  // namespace

std::int64_t Rows::Int(int row, int column) const {
  if (PQgetisnull(result_, row, column)) return 0;
  const char* text = PQgetvalue(result_, row, column);
  const auto length = static_cast<std::size_t>(PQgetlength(result_, row, column));
  std::int64_t value = 0;
  std::from_chars(text, text + length, value);
  return value;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo, const std::string& schema,
                                                     bool durable) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!parsed) {
    std::string message = parse_error ? PgTrimmed(parse_error) : "out of memory";
    if (parse_error) PQfreemem(parse_error);
    // libpq quotes a malformed URI whole, password included: never repeat it.
    for (auto at = message.find(conninfo); !conninfo.empty() && at != std::string::npos; at = message.find(conninfo)) {
      message.replace(at, conninfo.size(), "...");
    }
    return Fail(ErrorCode::kInvalidInput, fmt::format("PostgreSQL connection string is not valid: {}", message));
  }
  PQconninfoFree(parsed);
  // Keywords before dbname are defaults the conninfo may override; those after it win.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {"10", "dxhub", conninfo.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, 1);
  if (!conn) return Fail(ErrorCode::kStorage, "PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PgTrimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot connect to PostgreSQL: {}", message));
  }
  // Server notices ("schema already exists, skipping") go to the log at debug
  // level instead of stderr: they may quote values.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        Logger("storage")->debug("event=postgres-notice message=\"{}\"", PgTrimmed(message));
      },
      nullptr);
  auto connection = std::unique_ptr<Connection>(new Connection(conn, schema, durable));
  if (auto ok = connection->SetUpSession(); !ok) return tl::unexpected(ok.error());
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

Result<void> Connection::SetUpSession() {
  prepared_.clear();
  std::string setup = "SET client_min_messages TO warning;";
  if (!schema_.empty()) setup += "SET search_path TO " + PgQuoteIdentifier(conn_, schema_) + ";";
  if (!durable_) setup += "SET synchronous_commit TO off;";
  DX_TRY(done, Finish(PQexec(conn_, setup.c_str())));
  return {};
}

Result<void> Connection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return {};
  Logger("storage")->warn("event=postgres-reconnect host={} port={}", PQhost(conn_) ? PQhost(conn_) : "",
                          PQport(conn_) ? PQport(conn_) : "");
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot reconnect to PostgreSQL: {}", PgTrimmed(PQerrorMessage(conn_))));
  }
  return SetUpSession();
}

Result<Rows> Connection::Finish(PGresult* result) {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return Rows(result);
  }
  auto error = PgFailure("statement", conn_, result, last_sqlstate_);
  if (result) PQclear(result);
  return tl::unexpected(std::move(error));
}

Result<void> Connection::CheckParams(const std::vector<std::string>& params) {
  // Text parameters travel NUL-terminated: a NUL would silently cut the value.
  for (const auto& value : params) {
    if (value.find('\0') != std::string::npos) {
      last_sqlstate_ = "22021";
      return Fail(ErrorCode::kInvalidInput, "a value holds a NUL character, which PostgreSQL text cannot store");
    }
  }
  return {};
}

template <typename Run>
Result<Rows> Connection::Reconnecting(Run run) {
  const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  auto result = run();
  if (result || !idle || PQstatus(conn_) != CONNECTION_BAD) return result;
  if (auto ok = EnsureConnected(); !ok) return tl::unexpected(ok.error());
  return run();
}

Result<void> Connection::Execute(const std::string& sql) {
  DX_TRY(rows, Reconnecting([&] { return Finish(PQexec(conn_, sql.c_str())); }));
  return {};
}

Result<Rows> Connection::Prepared(const std::string& sql, const std::vector<std::string>& params) {
  return Reconnecting([&] { return PreparedOnce(sql, params); });
}

Result<Rows> Connection::Query(const std::string& sql, const std::vector<std::string>& params) {
  return Reconnecting([&] { return QueryOnce(sql, params); });
}

Result<Rows> Connection::PreparedOnce(const std::string& sql, const std::vector<std::string>& params) {
  if (auto ok = CheckParams(params); !ok) return tl::unexpected(ok.error());
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPreparedStatements) return QueryOnce(sql, params);
    std::string name = fmt::format("dx{}", prepared_.size() + 1);
    DX_TRY(prepared, Finish(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr)));
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  const auto values = PgValues(params);
  return Finish(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                               nullptr, 0));
}

Result<Rows> Connection::QueryOnce(const std::string& sql, const std::vector<std::string>& params) {
  if (auto ok = CheckParams(params); !ok) return tl::unexpected(ok.error());
  const auto values = PgValues(params);
  return Finish(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0));
}

Result<std::unique_ptr<Pool>> Pool::Open(const std::string& conninfo, const std::string& schema, bool durable,
                                         int size) {
  auto pool = std::make_unique<Pool>();
  for (int i = 0; i < std::max(1, size); ++i) {
    DX_TRY(connection, Connection::Open(conninfo, schema, durable));
    pool->idle_.push_back(std::move(*connection));
  }
  return pool;
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !idle_.empty(); });
  Lease lease(*this, std::move(idle_.back()));
  idle_.pop_back();
  lock.unlock();
  if (auto ok = lease->EnsureConnected(); !ok) return tl::unexpected(ok.error());
  return lease;
}

void Pool::Release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  ready_.notify_one();
}

std::string NumberedPlaceholders(const std::string& sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

bool IsRetryable(const std::string& sqlstate, bool unique_violation_too) {
  return sqlstate == "40001" || sqlstate == "40P01" || (unique_violation_too && sqlstate == "23505");
}

}  // namespace dx::storage::postgres
