// InstanceIndex on SQLite (the embedded default): WAL journal, one write
// connection behind a mutex (group commit batches arrive there), a pool of read
// connections so queries run while ingest writes, prepared statements cached per
// connection, numbered migrations applied at open. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/api/instance_index.hpp"

namespace dx::storage {

class SqliteIndex : public InstanceIndex {
 public:
  // Opens (creating and migrating) the index at `path`. With `durable`, every
  // commit reaches the disk before returning (synchronous=FULL); otherwise a
  // commit survives a process crash but not a power cut (synchronous=NORMAL).
  static Result<std::unique_ptr<SqliteIndex>> Open(const std::string& path, bool durable, int readers = 4);
  ~SqliteIndex() override;

  Result<std::vector<InsertResult>> InsertBatch(const std::vector<InstanceRecord>& records,
                                                bool replace_existing) override;
  Result<std::optional<StoredInstance>> FindInstance(const std::string& sop_instance_uid) override;
  Result<std::vector<QueryRow>> Search(const Query& query) override;
  Result<std::vector<StoredInstance>> ListInstances(const Query& query) override;
  Result<std::vector<std::string>> InstanceJson(const std::string& study_uid, const std::string& series_uid,
                                                const std::string& sop_uid) override;
  Result<IndexStats> Stats() override;

  // SQLite's plan for `query` (EXPLAIN QUERY PLAN, one step a line), so tests
  // and operators can check that a search uses an index instead of a scan.
  Result<std::string> ExplainSearch(const Query& query);

 private:
  struct Impl;
  explicit SqliteIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::storage
