// The PostgreSQL migrations (migrations/postgres/NNNN_name.sql), compiled into
// the binary at build time so dxhub needs no source tree at run time.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "storage/postgres/connection.hpp"

namespace dx::storage::postgres {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// In version order.
const std::vector<Migration>& Migrations();

// Creates `schema` (when not empty) and applies the migrations not yet recorded
// in its schema_migrations, all in one transaction under an advisory lock, so
// that several nodes (and both adapters) opening the same database at once
// serialise here and the later ones find nothing left to do. Fails when the
// database has a schema newer than this build knows.
Result<void> ApplyMigrations(Connection& c, const std::string& schema);

}  // namespace dx::storage::postgres
