// The audit trail: one entry per access to patient data (who, what, which
// patient or study, outcome), appended to a log in which each entry carries
// the SHA-256 of the previous one, so a removed or edited line breaks the
// chain (Verify finds it). Record is thread-safe and safe across processes
// (a server and `dxhub import` on one data folder): each append holds an
// exclusive flock and first catches up with entries other processes added.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace dx::audit {

struct Event {
  std::string actor;     // AE title, user or process
  std::string action;    // "dicom.store", "dicom.find", "dicom.retrieve", ...
  std::string outcome;   // "success" or a failure reason
  std::vector<std::string> entities;  // what was touched: "study:1.2.3", "query:PatientID=..."
  std::string source;    // peer address
};

// An event as the fields of a trail line, and back (nullopt when one is missing
// or of the wrong type): for a caller that keeps events elsewhere until they are
// in the trail (AuditTrail::Write).
nlohmann::json ToJson(const Event& event);
std::optional<Event> EventFromJson(const nlohmann::json& json);

// Where Write put a batch of entries: enough to tell after a crash whether they
// reached the disk (Kept).
struct Written {
  std::uint64_t offset = 0;          // where the first entry begins in the trail
  std::vector<std::string> hashes;   // one per entry, in order (empty strings when the trail has none)
};

class AuditTrail {
 public:
  virtual ~AuditTrail() = default;
  virtual void Record(const Event& event) = 0;
  // Several entries at once (in order).
  virtual void RecordAll(const std::vector<Event>& events) {
    for (const auto& event : events) Record(event);
  }

  // For a caller that keeps the entries durable itself until Sync returns (the
  // HL7 journal): Write appends them without waiting for the disk; Sync puts
  // everything written so far on disk; after a crash, Kept says how many of a
  // Write's entries, from the first, the trail still holds, so the caller
  // records the rest again. By default Write is RecordAll, which is durable.
  virtual Written Write(const std::vector<Event>& events) {
    RecordAll(events);
    return {0, std::vector<std::string>(events.size())};
  }
  virtual void Sync() {}
  virtual std::size_t Kept(const Written& written) { return written.hashes.size(); }
};

// Appends JSON lines to a file; with `durable`, Record returns only once its entry
// is on disk. RecordAll appends its entries in one write; concurrent Records share
// the fdatasync: one that starts after an entry was written covers it.
class FileAuditTrail : public AuditTrail {
 public:
  static Result<std::unique_ptr<FileAuditTrail>> Open(const std::string& path, bool durable);
  ~FileAuditTrail() override;
  FileAuditTrail(const FileAuditTrail&) = delete;
  FileAuditTrail& operator=(const FileAuditTrail&) = delete;
  void Record(const Event& event) override;
  void RecordAll(const std::vector<Event>& events) override;
  Written Write(const std::vector<Event>& events) override;
  void Sync() override;
  std::size_t Kept(const Written& written) override;

  // Re-reads `path` and checks the chain; fails naming the first broken line.
  static Result<std::uint64_t> Verify(const std::string& path);

 private:
  FileAuditTrail(std::string path, bool durable, int fd, std::uint64_t size, std::uint64_t next_sequence,
                 std::string last_hash);
  // Reads entries appended by other processes since `known_size_` (the caller holds the flock).
  void CatchUp(std::uint64_t size);
  // Appends the entries (holding the flock); returns where they went, and sets
  // `end` to the file size after them.
  Written Append(const std::vector<Event>& events, std::uint64_t& end);
  // Returns once the file is on disk through byte `end`.
  void SyncThrough(std::uint64_t end);

  std::string path_;
  bool durable_;
  int fd_;
  std::mutex mutex_;
  std::uint64_t known_size_;  // bytes of the file this object has accounted for
  std::uint64_t next_sequence_;
  std::string last_hash_;
  std::mutex sync_mutex_;       // held by the thread running fdatasync
  std::uint64_t synced_size_;   // bytes known to be on disk (guarded by sync_mutex_)
};

}  // namespace dx::audit
