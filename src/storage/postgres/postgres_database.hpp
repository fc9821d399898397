// How the PostgreSQL adapters reach their database: the options every adapter
// opens with, and one administrative entry point for tests and tooling. The only
// headers of storage/postgres/ other folders include; none of them includes libpq.
// Free functions; thread-safe.
#pragma once

#include <string>

#include "core/error.hpp"

namespace dx::storage {

struct PostgresOptions {
  // Connections kept open; this many statements of the adapter run at once.
  int connections = 4;
  // Schema holding the tables: created when missing, and put first on every
  // connection's search_path. Empty: the connection's own search_path decides
  // (e.g. "public", or `options=-csearch_path=...` in the conninfo).
  std::string schema;
};

// True when `index` names a PostgreSQL database (a postgresql:// or postgres://
// URL, or a libpq key=value conninfo) rather than an embedded SQLite index.
bool IsPostgresConninfo(const std::string& index);

// Runs `sql` (one or more statements, no results) on the database `conninfo`
// names, with `schema` (when not empty) first on the search_path. For tests and
// administrative tooling; adapters never need it.
Result<void> RunPostgresSql(const std::string& conninfo, const std::string& schema, const std::string& sql);

}  // namespace dx::storage
