// OrderStore on PostgreSQL (migrations/postgres/0005_orders.sql,
// 0006_worklist.sql), so that nodes
// sharing a database share their requests. A pool of connections; thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/api/order_store.hpp"
#include "storage/postgres/postgres_database.hpp"

namespace dx::storage {

class PostgresOrderStore : public OrderStore {
 public:
  // Connects to `conninfo` and applies the migrations; `durable` and the errors
  // as for PostgresIndex::Open.
  static Result<std::unique_ptr<PostgresOrderStore>> Open(const std::string& conninfo, bool durable,
                                                          const PostgresOptions& options = {});
  ~PostgresOrderStore() override;

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
  struct Impl;
  explicit PostgresOrderStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::storage
