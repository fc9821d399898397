// OrderStore on SQLite (migrations/sqlite/0005_orders.sql,
// 0006_worklist.sql), sharing the data
// folder's index.sqlite. One connection behind a mutex: requests change at human
// speed, and the waiting-list scan reads a snapshot. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "storage/api/order_store.hpp"

namespace dx::storage {

namespace sqlite {
class Connection;
}

class SqliteOrderStore : public OrderStore {
 public:
  // Opens (creating and migrating) the database at `path`; `durable` as for SqliteIndex.
  static Result<std::unique_ptr<SqliteOrderStore>> Open(const std::string& path, bool durable);
  ~SqliteOrderStore() override;

  Result<void> Create(const std::vector<OrderRecord>& orders, const std::vector<OrderEvent>& events) override;
  Result<std::optional<OrderRecord>> Read(const std::string& id) override;
  Result<std::optional<OrderRecord>> FindByAccession(const std::string& accession_number) override;
  Result<bool> Update(const OrderRecord& order, const OrderEvent& event) override;
  Result<std::vector<OrderEvent>> Events(const std::string& id) override;
  Result<OrderPage> Search(const OrderSearch& search) override;
  Result<std::vector<OrderRecord>> Booked(const ScheduledSearch& search) override;
  Result<void> ScanClocks(const std::function<void(const OrderClock&)>& visit) override;
  Result<void> CreateStep(const ProcedureStep& step) override;
  Result<std::optional<ProcedureStep>> ReadStep(const std::string& uid) override;
  Result<bool> UpdateStep(const ProcedureStep& step) override;

 private:
  explicit SqliteOrderStore(std::unique_ptr<sqlite::Connection> connection);

  std::mutex mutex_;
  std::unique_ptr<sqlite::Connection> connection_;
};

}  // namespace dx::storage
