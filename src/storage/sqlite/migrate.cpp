#include <set>

#include <fmt/format.h>

#include "storage/sqlite/migrations.hpp"

namespace dx::storage::sqlite {

Result<void> ApplyMigrations(Connection& c, const std::string& path) {
  if (auto ok = c.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
      !ok) {
    return ok;
  }
  // One transaction for all pending migrations: two processes opening the same
  // new index serialise here, and the second finds nothing left to do.
  if (auto ok = c.Execute("BEGIN IMMEDIATE"); !ok) return ok;
  auto run = [&]() -> Result<void> {
    std::set<std::int64_t> applied;
    {
      DX_TRY(select, c.Prepare("SELECT version FROM schema_migrations"));
      while (true) {
        DX_TRY(more, select->Step());
        if (!*more) break;
        applied.insert(select->Int(0));
      }
    }
    const auto& migrations = sqlite::Migrations();
    const std::int64_t known = migrations.empty() ? 0 : migrations.back().version;
    if (!applied.empty() && *applied.rbegin() > known) {
      return Fail(ErrorCode::kStorage,
                  fmt::format("index {} has schema version {}, newer than this dxhub knows ({}); use a newer dxhub",
                              path, *applied.rbegin(), known));
    }
    for (const auto& migration : migrations) {
      if (applied.count(migration.version)) continue;
      if (auto ok = c.Execute(migration.sql); !ok) {
        return Fail(ErrorCode::kStorage, fmt::format("migration {} ({}) failed: {}", migration.version,
                                                     migration.name, ok.error().message));
      }
      DX_TRY(record, c.Prepare("INSERT INTO schema_migrations (version, name) VALUES (?, ?)"));
      record->Bind(1, static_cast<std::int64_t>(migration.version)).Bind(2, migration.name);
      DX_TRY(done, record->Run());
    }
    return {};
  };
  if (auto ok = run(); !ok) {
    (void)c.Execute("ROLLBACK");
    return ok;
  }
  return c.Execute("COMMIT");
}

}  // namespace dx::storage::sqlite
