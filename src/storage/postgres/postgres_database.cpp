#include "storage/postgres/postgres_database.hpp"

#include "storage/postgres/connection.hpp"

namespace dx::storage {

bool IsPostgresConninfo(const std::string& index) {
  return index.rfind("postgresql://", 0) == 0 || index.rfind("postgres://", 0) == 0 ||
         index.find('=') != std::string::npos;
}

Result<void> RunPostgresSql(const std::string& conninfo, const std::string& schema, const std::string& sql) {
  DX_TRY(connection, postgres::Connection::Open(conninfo, schema, true));
  return (*connection)->Execute(sql);
}

}  // namespace dx::storage
