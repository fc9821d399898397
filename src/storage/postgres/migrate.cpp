#include <set>

#include <fmt/format.h>

#include "storage/postgres/migrations.hpp"

namespace dx::storage::postgres {

Result<void> ApplyMigrations(Connection& c, const std::string& schema) {
  return InTransaction(c, [&]() -> Result<void> {
    // Transaction-scoped: released by COMMIT or ROLLBACK, even if dxhub dies.
    // The key is per schema, so that separate schemas migrate independently.
    DX_TRY(locked, c.Prepared("SELECT pg_advisory_xact_lock(hashtext('dxhub.migrations'),"
                              " hashtext(COALESCE(NULLIF($1, ''), current_schema(), '')))",
                              {schema}));
    if (!schema.empty()) {
      DX_TRY(quoted, c.Prepared("SELECT quote_ident($1)", {schema}));
      DX_TRY(created, c.Execute("CREATE SCHEMA IF NOT EXISTS " + quoted->Text(0, 0)));
    }
    DX_TRY(table, c.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
    std::set<std::int64_t> applied;
    {
      DX_TRY(rows, c.Prepared("SELECT version FROM schema_migrations", {}));
      for (int row = 0; row < rows->size(); ++row) applied.insert(rows->Int(row, 0));
    }
    const auto& migrations = postgres::Migrations();
    const std::int64_t known = migrations.empty() ? 0 : migrations.back().version;
    if (!applied.empty() && *applied.rbegin() > known) {
      return Fail(ErrorCode::kStorage,
                  fmt::format("PostgreSQL index has schema version {}, newer than this dxhub knows ({}); "
                              "use a newer dxhub",
                              *applied.rbegin(), known));
    }
    for (const auto& migration : migrations) {
      if (applied.count(migration.version)) continue;
      if (auto ok = c.Execute(migration.sql); !ok) {
        return Fail(ok.error().code, fmt::format("migration {} ({}) failed: {}", migration.version, migration.name,
                                                 ok.error().message));
      }
      DX_TRY(recorded, c.Prepared("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                  {std::to_string(migration.version), migration.name}));
    }
    return {};
  });
}

}  // namespace dx::storage::postgres
