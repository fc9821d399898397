// The journal of incoming messages: what the HL7 listener has acknowledged but
// the result store may not have yet. Entries are appended in batches, one
// write (and, when durable, one fdatasync) a batch, to numbered segment files
// in one folder; a segment is removed once every entry in it is in the store.
// A durable segment is written as zeros before use (Prepare does the next one
// ahead), so that a batch's fdatasync only has its own bytes to wait for.
// Each entry carries a CRC-32, so a batch torn by a crash (never acknowledged)
// is recognised and dropped when the journal is opened again. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::results {

struct JournalEntry {
  // A message, or a batch's audit entries (kept here until the audit trail has
  // them on disk: group_commit.hpp).
  enum class Kind : std::uint8_t { kMessage, kAudit };

  std::uint64_t sequence = 0;  // set by Write: 1, 2, 3, ... across segments and restarts
  std::string received_at;     // FHIR instant
  std::string ack;             // the acknowledgement sent
  std::string raw;             // the message as received; for kAudit, the entries
  Kind kind = Kind::kMessage;
};

class Journal {
 public:
  // Opens (creating) the journal in `folder`. The entries left by an earlier run
  // are read (Recovered); new entries go to a new segment.
  static Result<std::unique_ptr<Journal>> Open(const std::string& folder, bool durable,
                                               std::uint64_t segment_bytes = 16u << 20);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The entries found when opening, in order (moved out: call once).
  std::vector<JournalEntry> Recovered() { return std::move(recovered_); }

  // Numbers the entries and appends them, with the operating system; Sync then
  // puts what was written on disk (when durable), so a caller can do other work
  // for the disk meanwhile (the group commit's audit entries). An error from
  // either means none of the batch may be relied on.
  Result<void> Write(std::vector<JournalEntry>& entries);
  Result<void> Sync();

  // Writes the next segment's zeros now, off the writers' path (without the
  // lock Write takes), unless it is ready already or the journal is not durable.
  // Without it, Write does this itself when it needs the segment; after a
  // failure (a full disk) that is also the next attempt.
  Result<void> Prepare();

  // Whether Release(sequence) would remove a segment.
  bool Releasable(std::uint64_t sequence);
  // Every entry through `sequence` is durably in the store: removes the segments
  // that hold nothing newer. With `current`, also empties the segment being
  // appended to when it holds nothing newer (at shutdown).
  Result<void> Release(std::uint64_t sequence, bool current = false);

  // Segment files on disk now (for tests and status).
  std::size_t segments();

 private:
  Journal(std::string folder, bool durable, std::uint64_t segment_bytes);
  Result<void> OpenSegment(std::uint64_t number);

  std::mutex mutex_;
  std::string folder_;
  bool durable_;
  std::uint64_t segment_bytes_;
  int fd_ = -1;                    // the segment being appended to
  std::uint64_t segment_ = 0;      // its number
  std::uint64_t written_ = 0;      // the bytes of entries in it
  int prepared_fd_ = -1;           // segment `prepared_`, made ready by Prepare
  std::uint64_t prepared_ = 0;
  std::uint64_t unpreparable_ = 0;  // a segment Prepare failed to make
  std::uint64_t next_sequence_ = 1;
  std::map<std::uint64_t, std::uint64_t> closed_;  // older segments: number -> last sequence in it
  std::vector<JournalEntry> recovered_;
};

}  // namespace dx::results
