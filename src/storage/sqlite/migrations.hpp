// The SQLite migrations (migrations/sqlite/NNNN_name.sql), compiled into the
// binary at build time so dxhub needs no source tree at run time.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "storage/sqlite/connection.hpp"

namespace dx::storage::sqlite {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// In version order.
const std::vector<Migration>& Migrations();

// Applies the migrations not yet recorded in `c`'s schema_migrations, in one
// transaction, so every adapter opening the same file may call it. Fails when
// the file has a schema newer than this build knows (`path` names it).
Result<void> ApplyMigrations(Connection& c, const std::string& path);

}  // namespace dx::storage::sqlite
