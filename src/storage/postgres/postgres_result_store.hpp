// ResultStore on PostgreSQL: the result tables live in the same database (and
// schema) as the PostgreSQL instance index (migration 0003), so every node sees
// every result and inbox action. A small connection pool; each message is one
// transaction. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/api/result_store.hpp"
#include "storage/postgres/postgres_database.hpp"

namespace dx::storage {

class PostgresResultStore : public ResultStore {
 public:
  // Connects to `conninfo` and applies the migrations; `durable` and the errors
  // as for PostgresIndex::Open.
  static Result<std::unique_ptr<PostgresResultStore>> Open(const std::string& conninfo, bool durable,
                                                           const PostgresOptions& options = {});
  ~PostgresResultStore() override;

  Result<ResourceIds> ResourceIdScheme() override;
  Result<std::optional<std::string>> FindAck(const std::string& sender, const std::string& control_id) override;
  Result<std::vector<StoreOutcome>> StoreMessages(const std::vector<IncomingMessage>& messages) override;
  Result<std::optional<StoredResource>> Read(const std::string& type, const std::string& id, int version) override;
  Result<std::vector<StoredResource>> History(const std::string& type, const std::string& id) override;
  Result<SearchPage> Search(const ResourceSearch& search) override;
  Result<std::vector<InboxEntry>> Inbox(const std::string& practice, bool include_handled, int limit) override;
  Result<void> Act(const InboxAction& action) override;
  Result<std::vector<Notification>> Notifications(const std::string& practice, bool include_acknowledged) override;

 private:
  struct Impl;
  explicit PostgresResultStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::storage
