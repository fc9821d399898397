// Group commit for incoming messages, in two stages.
//
// Acknowledge: listeners hand in messages (Submit) and go on; a journal thread
// writes everything handed in since its last write to the journal (journal.hpp)
// in one write and one fdatasync, together with the batch's audit entries, and
// then calls each message's completion: its message is durable and may be
// acknowledged. The audit entries are also written to the audit trail at once,
// which syncs them later: before the journal removes the segment holding them,
// and after a crash Recover records again any the trail lost. So a batch waits
// for one fdatasync, not one for the journal and one for the audit trail. A
// listener thread never waits for the disk, and wakes the journal thread once
// per batch, not once per message. A message whose sender and control id were
// seen before (in the store or still in the journal) is not journaled; its
// completion gets the first acknowledgement back.
//
// Apply: one thread moves journaled messages into the result store in large
// transactions (ResultStore::CommitMessages), a whole backlog at a time, and
// removes journal segments once what they hold is durably in the store. Large
// transactions are what make this cheap: an index page touched by many messages
// is written once. At most `max_backlog` messages wait to be applied; beyond
// that, journaling waits for the store.
//
// Readers never see the gap: WaitApplied returns once everything acknowledged
// before the call is in the store, and ReadAfterAck wraps a store so that every
// read does so first. On opening, Recover applies what an earlier process
// journaled and acknowledged but had not yet applied, and restores its audit
// entries. If the store fails, the journal keeps the messages, the applier
// retries, and new messages get an error (so they are not acknowledged) until it
// succeeds again. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "audit/audit_trail.hpp"
#include "results/journal.hpp"
#include "storage/api/result_store.hpp"

namespace dx::results {

struct GroupCommitOptions {
  std::size_t max_batch = 512;      // messages journaled in one write
  std::size_t max_apply = 2048;     // messages applied in one transaction
  std::size_t min_apply = 512;      // the applier waits for this many,
  std::chrono::milliseconds apply_delay{20};  // or this long, unless a reader waits
  std::size_t max_backlog = 8192;   // journaled messages not yet applied (about 80 MB)
};

class GroupCommit {
 public:
  // How to rebuild a journaled message for the store (parse and map it again);
  // nullopt when it cannot be (then it is logged and skipped).
  using Rebuild = std::function<std::optional<storage::IncomingMessage>(const JournalEntry&)>;

  // The store, journal and audit trail must outlive this object.
  GroupCommit(storage::ResultStore& store, Journal& journal, audit::AuditTrail& audit, Rebuild rebuild,
              GroupCommitOptions options = {});
  ~GroupCommit();  // applies what is journaled, then stops
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Applies the entries an earlier process left in the journal, records again
  // the audit entries from it that the audit trail lost, and starts the applier.
  // Call once, before Store. Returns how many messages it applied.
  Result<std::size_t> Recover();

  // Journals the message (in some batch with others) and calls `done` on the
  // journal thread once it is durable, or with the error that kept it from the
  // journal. The message's resources reach the store shortly after. `event` is
  // audited with outcome "success" when the message is new, as a duplicate
  // otherwise (a failure is left to the caller to audit, with Audit).
  using Done = std::function<void(Result<storage::StoreOutcome>)>;
  void Submit(storage::IncomingMessage message, audit::Event event, Done done);
  // Records `event` with the next batch's audit entries (one durable write for
  // all), then calls `done` on the journal thread.
  void Audit(audit::Event event, std::function<void()> done);

  // Returns once every message whose Store returned before this call is in the
  // store, or at once while the store is failing or the commit is stopping.
  Result<void> WaitApplied();

 private:
  struct Pending {
    std::optional<storage::IncomingMessage> message;  // none: only the event is recorded
    audit::Event event;
    Done done;
    std::optional<Result<storage::StoreOutcome>> outcome;
  };
  struct Journaled {
    std::uint64_t sequence;
    storage::IncomingMessage message;
  };

  void JournalBatches();
  void WriteBatch(std::vector<Pending>& batch);
  void Apply();
  static std::string Key(const storage::IncomingMessage& m) { return m.message.sender + '\n' + m.message.control_id; }

  storage::ResultStore& store_;
  results::Journal& journal_;
  audit::AuditTrail& audit_;
  Rebuild rebuild_;
  const GroupCommitOptions options_;

  std::mutex mutex_;
  std::vector<Pending> waiting_;  // handed in since the last batch, in arrival order
  std::deque<Journaled> to_apply_;
  std::unordered_map<std::string, std::string> unapplied_;  // key -> ack, journaled and not yet applied
  std::uint64_t journaled_ = 0;   // last sequence handed to the applier
  std::uint64_t applied_ = 0;     // last sequence in the store
  std::optional<ErrorInfo> failing_;  // the store's last error, until an apply succeeds
  bool stopping_ = false;
  int readers_ = 0;                  // in WaitApplied
  std::condition_variable submitted_;  // waiting_ has messages, or stopping
  std::condition_variable work_;     // to_apply_ has messages, a reader waits, or stopping
  std::condition_variable progress_;  // applied_ moved, or the store failed
  std::thread applier_;
  std::thread journaler_;
};

// A result store whose reads first wait for GroupCommit::WaitApplied: a result
// read right after its acknowledgement is there.
class ReadAfterAck : public storage::ResultStore {
 public:
  ReadAfterAck(storage::ResultStore& store, GroupCommit& commit) : store_(store), commit_(commit) {}

  Result<storage::ResourceIds> ResourceIdScheme() override { return store_.ResourceIdScheme(); }
  Result<std::optional<std::string>> FindAck(const std::string& sender, const std::string& control_id) override;
  Result<std::vector<storage::StoreOutcome>> StoreMessages(const std::vector<storage::IncomingMessage>& messages) override;
  Result<std::optional<storage::StoredResource>> Read(const std::string& type, const std::string& id,
                                                      int version) override;
  Result<std::vector<storage::StoredResource>> History(const std::string& type, const std::string& id) override;
  Result<storage::SearchPage> Search(const storage::ResourceSearch& search) override;
  Result<std::vector<storage::InboxEntry>> Inbox(const std::string& practice, bool include_handled, int limit) override;
  Result<void> Act(const storage::InboxAction& action) override;
  Result<std::vector<storage::Notification>> Notifications(const std::string& practice,
                                                           bool include_acknowledged) override;

 private:
  template <typename Call>
  auto AfterAck(Call call) -> decltype(call()) {
    if (auto applied = commit_.WaitApplied(); !applied) return tl::unexpected(applied.error());
    return call();
  }

  storage::ResultStore& store_;
  GroupCommit& commit_;
};

}  // namespace dx::results
