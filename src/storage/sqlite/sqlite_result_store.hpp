// ResultStore on SQLite: the result tables live in the same file as the instance
// index (migration 0003). Writes go through one connection behind a mutex, reads
// through another (WAL: a read sees the last commit and never waits for a write).
// A commit only appends to the WAL: checkpoints run on a thread of their own, and
// when durable the WAL is fsynced by Sync, outside the lock, so that one batch's
// fsync overlaps the next batch's transaction. Resource JSON is stored packed
// (packed_json.hpp). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "storage/api/result_store.hpp"

namespace dx::storage {

namespace sqlite {
class Connection;
class JsonPacker;
}  // namespace sqlite

class SqliteResultStore : public ResultStore {
 public:
  // Opens (creating and migrating) the database at `path`. With `durable`, a
  // StoreMessages, Sync or Act that returns has reached the disk (the WAL is
  // fdatasynced); otherwise it survives a crash of the process, not of the machine.
  // The WAL is kept to about `wal_bytes_limit` (see Checkpointer).
  static constexpr std::int64_t kWalBytesLimit = 256 << 20;
  static Result<std::unique_ptr<SqliteResultStore>> Open(const std::string& path, bool durable,
                                                        std::int64_t wal_bytes_limit = kWalBytesLimit);
  ~SqliteResultStore() override;

  Result<ResourceIds> ResourceIdScheme() override;
  Result<std::optional<std::string>> FindAck(const std::string& sender, const std::string& control_id) override;
  Result<std::vector<StoreOutcome>> StoreMessages(const std::vector<IncomingMessage>& messages) override;
  Result<std::vector<StoreOutcome>> CommitMessages(const std::vector<IncomingMessage>& messages) override;
  Result<void> Sync() override;
  Result<std::optional<StoredResource>> Read(const std::string& type, const std::string& id, int version) override;
  Result<std::vector<StoredResource>> History(const std::string& type, const std::string& id) override;
  Result<SearchPage> Search(const ResourceSearch& search) override;
  Result<std::vector<InboxEntry>> Inbox(const std::string& practice, bool include_handled, int limit) override;
  Result<void> Act(const InboxAction& action) override;
  Result<std::vector<Notification>> Notifications(const std::string& practice, bool include_acknowledged) override;

 private:
  class Checkpointer;
  class WalSync;
  SqliteResultStore(std::unique_ptr<sqlite::Connection> connection, std::unique_ptr<sqlite::Connection> reader,
                    std::unique_ptr<Checkpointer> checkpointer, std::unique_ptr<WalSync> wal_sync);

  std::mutex mutex_;  // the writer's
  std::unique_ptr<sqlite::Connection> connection_;
  std::unique_ptr<sqlite::JsonPacker> packer_;  // under mutex_, as connection_ is
  std::mutex read_mutex_;
  std::unique_ptr<sqlite::Connection> reader_;
  std::unique_ptr<Checkpointer> checkpointer_;  // after connection_: stops before it closes
  std::unique_ptr<WalSync> wal_sync_;           // only when durable
};

}  // namespace dx::storage
