// The SQLite migrations (migrations/sqlite/NNNN_name.sql), compiled into the
// binary at build time so dxhub needs no source tree at run time.
#pragma once

#include <string>
#include <vector>

namespace dx::storage::sqlite {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// In version order.
const std::vector<Migration>& Migrations();

}  // namespace dx::storage::sqlite
