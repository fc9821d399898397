// ConsultationStore on SQLite: the consultation tables live in the same file as
// the instance index (migration 0002) and are written through one connection
// behind a mutex; consultations are small and arrive one per request.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "storage/api/consultation_store.hpp"

namespace dx::storage {

namespace sqlite {
class Connection;
}

class SqliteConsultationStore : public ConsultationStore {
 public:
  // Opens (creating and migrating) the database at `path`; `durable` as for SqliteIndex.
  static Result<std::unique_ptr<SqliteConsultationStore>> Open(const std::string& path, bool durable);
  ~SqliteConsultationStore() override;

  Result<void> Record(const Consultation& consultation) override;
  Result<std::optional<Consultation>> Find(const std::string& id) override;
  Result<std::vector<std::string>> AddFeedback(const std::vector<ConsultationFeedback>& feedback) override;
  Result<std::vector<Consultation>> List(const std::string& patient, int limit) override;

 private:
  explicit SqliteConsultationStore(std::unique_ptr<sqlite::Connection> connection);
  Result<std::vector<ConsultationFeedback>> FeedbackOf(std::int64_t consultation_pk);
  Result<std::vector<std::string>> CardsOf(std::int64_t consultation_pk);

  std::mutex mutex_;
  std::unique_ptr<sqlite::Connection> connection_;
};

}  // namespace dx::storage
