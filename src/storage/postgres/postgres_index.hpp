// InstanceIndex on PostgreSQL: the index several dxhub nodes share. A small pool
// of connections runs reads and writes side by side; each InsertBatch is one
// transaction whose row locks keep the denormalised counts exact when several
// nodes ingest into the same study, and which runs again when PostgreSQL aborts
// it for a deadlock. Fixed statements are prepared per connection; searches are
// planned for their values. Same matching semantics as SqliteIndex. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/api/instance_index.hpp"
#include "storage/postgres/postgres_database.hpp"

namespace dx::storage {

class PostgresIndex : public InstanceIndex {
 public:
  // Connects to `conninfo` (a postgresql:// URL or a libpq key=value string) and
  // applies the migrations. With `durable`, a commit returns once the server has
  // flushed it (synchronous_commit on); otherwise a commit survives a crash of
  // dxhub, but the last ones may be lost if the database server itself crashes.
  // Errors: kInvalidInput (malformed conninfo), kUnavailable (no server), kStorage.
  static Result<std::unique_ptr<PostgresIndex>> Open(const std::string& conninfo, bool durable,
                                                     const PostgresOptions& options = {});
  ~PostgresIndex() override;

  Result<std::vector<InsertResult>> InsertBatch(const std::vector<InstanceRecord>& records,
                                                bool replace_existing) override;
  Result<std::optional<StoredInstance>> FindInstance(const std::string& sop_instance_uid) override;
  Result<std::vector<QueryRow>> Search(const Query& query) override;
  Result<std::vector<StoredInstance>> ListInstances(const Query& query) override;
  Result<std::vector<std::string>> InstanceJson(const std::string& study_uid, const std::string& series_uid,
                                                const std::string& sop_uid) override;
  Result<IndexStats> Stats() override;

  // PostgreSQL's plan for `query` (EXPLAIN, one line per plan node), so tests
  // and operators can check that a search uses an index instead of a scan.
  Result<std::string> ExplainSearch(const Query& query);

 private:
  struct Impl;
  explicit PostgresIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::storage
