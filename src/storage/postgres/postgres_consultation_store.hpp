// ConsultationStore on PostgreSQL: the consultation tables live in the same
// database (and schema) as the PostgreSQL instance index (migration 0002), so
// every node sees every consultation and its feedback. A small connection pool;
// each write is one transaction. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/api/consultation_store.hpp"
#include "storage/postgres/postgres_database.hpp"

namespace dx::storage {

class PostgresConsultationStore : public ConsultationStore {
 public:
  // Connects to `conninfo` and applies the migrations; `durable` and the errors
  // as for PostgresIndex::Open.
  static Result<std::unique_ptr<PostgresConsultationStore>> Open(const std::string& conninfo, bool durable,
                                                                 const PostgresOptions& options = {});
  ~PostgresConsultationStore() override;

  Result<void> Record(const Consultation& consultation) override;
  Result<std::optional<Consultation>> Find(const std::string& id) override;
  Result<std::vector<std::string>> AddFeedback(const std::vector<ConsultationFeedback>& feedback) override;
  Result<std::vector<Consultation>> List(const std::string& patient, int limit) override;

 private:
  struct Impl;
  explicit PostgresConsultationStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::storage
