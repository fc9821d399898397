#include "results/group_commit.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vector>

#include "core/logging.hpp"

namespace dx::results {

namespace {

// A batch's audit entries as the journal keeps them: the entries, and where the
// audit trail's Write put them.
JournalEntry AuditRecord(const std::vector<audit::Event>& events, const audit::Written& written) {
  nlohmann::json entries = nlohmann::json::array();
  for (std::size_t i = 0; i < events.size(); ++i) {
    nlohmann::json entry = audit::ToJson(events[i]);
    entry["hash"] = written.hashes[i];
    entries.push_back(std::move(entry));
  }
  JournalEntry record;
  record.kind = JournalEntry::Kind::kAudit;
  record.raw = nlohmann::json{{"offset", written.offset}, {"entries", std::move(entries)}}.dump();
  return record;
}

// The entries of an AuditRecord that the audit trail no longer holds (after a
// crash before its fdatasync); nullopt when the record cannot be read.
std::optional<std::vector<audit::Event>> LostAuditEntries(const JournalEntry& record, audit::AuditTrail& audit) {
  const auto json = nlohmann::json::parse(record.raw, nullptr, false);
  if (!json.is_object() || !json.contains("offset") || !json.contains("entries")) return std::nullopt;
  try {
    audit::Written written{json["offset"].get<std::uint64_t>(), {}};
    std::vector<audit::Event> events;
    for (const auto& e : json["entries"]) {
      auto event = audit::EventFromJson(e);
      if (!event) return std::nullopt;
      written.hashes.push_back(e.at("hash").get<std::string>());
      events.push_back(std::move(*event));
    }
    events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(audit.Kept(written)));
    return events;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

GroupCommit::GroupCommit(storage::ResultStore& store, results::Journal& journal, audit::AuditTrail& audit,
                         Rebuild rebuild, GroupCommitOptions options)
    : store_(store), journal_(journal), audit_(audit), rebuild_(std::move(rebuild)), options_(options) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  submitted_.notify_all();
  work_.notify_all();
  progress_.notify_all();
  if (journaler_.joinable()) journaler_.join();  // answers what is still waiting
  if (!applier_.joinable()) return;
  applier_.join();
  // Everything journaled is applied unless the store was failing: then the
  // journal keeps it for the next start.
  if (failing_) return;
  audit_.Sync();
  if (store_.Sync()) (void)journal_.Release(applied_, true);
}

Result<std::size_t> GroupCommit::Recover() {
  std::vector<JournalEntry> entries = journal_.Recovered();
  // Audit entries the trail lost in a crash (written, not yet synced) are recorded again.
  std::size_t restored = 0;
  for (const auto& entry : entries) {
    if (entry.kind != JournalEntry::Kind::kAudit) continue;
    auto lost = LostAuditEntries(entry, audit_);
    if (!lost) {
      Logger("results")->error("event=journal-audit-unreadable sequence={}", entry.sequence);
      continue;
    }
    audit_.RecordAll(*lost);
    restored += lost->size();
  }
  if (restored > 0) Logger("results")->warn("event=audit-entries-restored count={}", restored);
  const std::uint64_t last = entries.empty() ? 0 : entries.back().sequence;
  std::erase_if(entries, [](const JournalEntry& e) { return e.kind == JournalEntry::Kind::kAudit; });
  std::size_t stored = 0;
  for (std::size_t start = 0; start < entries.size(); start += options_.max_apply) {
    std::vector<storage::IncomingMessage> messages;
    for (std::size_t i = start; i < std::min(entries.size(), start + options_.max_apply); ++i) {
      if (auto message = rebuild_(entries[i])) {
        messages.push_back(std::move(*message));
      } else {
        Logger("results")->error("event=journal-entry-unreadable sequence={}", entries[i].sequence);
      }
    }
    auto outcomes = store_.CommitMessages(messages);
    if (!outcomes) {
      return Fail(outcomes.error().code, "cannot apply the HL7 journal to the result store: " + outcomes.error().message);
    }
    for (const auto& outcome : *outcomes) stored += outcome.stored ? 1 : 0;
  }
  if (last > 0) {
    if (auto synced = store_.Sync(); !synced) return tl::unexpected(synced.error());
    if (auto released = journal_.Release(last); !released) return tl::unexpected(released.error());
    Logger("results")->info("event=journal-recovered entries={} stored={}", entries.size(), stored);
  }
  journaled_ = applied_ = last;
  applier_ = std::thread([this] { Apply(); });
  journaler_ = std::thread([this] { JournalBatches(); });
  return stored;
}

void GroupCommit::Submit(storage::IncomingMessage message, audit::Event event, Done done) {
  std::lock_guard lock(mutex_);
  waiting_.push_back({std::move(message), std::move(event), std::move(done), std::nullopt});
  if (waiting_.size() == 1) submitted_.notify_one();
}

void GroupCommit::Audit(audit::Event event, std::function<void()> done) {
  std::lock_guard lock(mutex_);
  waiting_.push_back({std::nullopt, std::move(event), [done = std::move(done)](auto&&) { done(); }, std::nullopt});
  if (waiting_.size() == 1) submitted_.notify_one();
}

// The journal thread: takes everything handed in, journals and audits it as one
// batch, and answers each.
void GroupCommit::JournalBatches() {
  std::unique_lock lock(mutex_);
  while (true) {
    submitted_.wait(lock, [&] { return !waiting_.empty() || stopping_; });
    if (waiting_.empty()) return;  // stopping, and everything handed in is answered
    std::vector<Pending> batch;
    if (waiting_.size() <= options_.max_batch) {
      batch.swap(waiting_);
    } else {
      batch.assign(std::make_move_iterator(waiting_.begin()),
                   std::make_move_iterator(waiting_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch)));
      waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch));
    }
    // Not more than max_backlog messages may wait for the store.
    progress_.wait(lock, [&] { return journaled_ - applied_ < options_.max_backlog || failing_ || stopping_; });
    std::optional<ErrorInfo> refused;
    if (failing_) {
      refused = ErrorInfo{failing_->code, "the result store is failing: " + failing_->message};
    } else if (stopping_) {
      refused = ErrorInfo{ErrorCode::kUnavailable, "the listener is stopping"};
    }
    lock.unlock();
    if (refused) {
      for (auto& p : batch) p.outcome = tl::unexpected(*refused);
      std::vector<audit::Event> events;
      for (auto& p : batch) {
        if (!p.message) events.push_back(std::move(p.event));  // a failure already decided
      }
      audit_.RecordAll(events);
    } else {
      WriteBatch(batch);
    }
    for (auto& p : batch) p.done(std::move(*p.outcome));
    lock.lock();
  }
}

// Journals the batch's new messages, audits the batch, sets every outcome and
// hands the new messages to the applier. On the journal thread, without the lock.
void GroupCommit::WriteBatch(std::vector<Pending>& batch) {
  std::vector<std::optional<Result<storage::StoreOutcome>>> outcomes(batch.size());
  std::vector<std::size_t> fresh;                                  // not seen before
  std::vector<std::optional<std::size_t>> same_as(batch.size());  // an earlier one in this batch
  std::unordered_map<std::string, std::size_t> in_batch;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].message) {
        outcomes[i] = storage::StoreOutcome{false, ""};
        continue;
      }
      const std::string key = Key(*batch[i].message);
      if (auto known = unapplied_.find(key); known != unapplied_.end()) {
        outcomes[i] = storage::StoreOutcome{false, known->second};
      } else if (auto earlier = in_batch.find(key); earlier != in_batch.end()) {
        same_as[i] = earlier->second;
      } else {
        in_batch.emplace(key, i);
        fresh.push_back(i);
      }
    }
  }
  std::vector<JournalEntry> entries;  // the new messages, after the batch's audit record (below)
  std::vector<std::size_t> journaled;
  for (std::size_t i : fresh) {
    const auto& m = *batch[i].message;
    auto earlier = store_.FindAck(m.message.sender, m.message.control_id);
    if (!earlier) {
      outcomes[i] = tl::unexpected(earlier.error());
    } else if (*earlier) {
      outcomes[i] = storage::StoreOutcome{false, **earlier};
    } else {
      entries.push_back({0, m.message.received_at, m.ack, m.message.raw});
      journaled.push_back(i);
    }
  }
  Result<void> appended = {};
  const auto settle = [&] {
    for (std::size_t i : journaled) {
      outcomes[i] = appended ? Result<storage::StoreOutcome>(storage::StoreOutcome{true, ""})
                             : Result<storage::StoreOutcome>(tl::unexpected(appended.error()));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!same_as[i]) continue;
      const auto& first = outcomes[*same_as[i]];
      outcomes[i] = first && *first && (*first)->stored
                        ? Result<storage::StoreOutcome>(storage::StoreOutcome{false, batch[*same_as[i]].message->ack})
                        : *first;
    }
  };
  settle();
  // The batch's audit entries go to the audit trail without waiting for its disk,
  // and into the journal beside the messages: one fdatasync makes both durable.
  // The trail is synced before the journal lets go of them (Apply); after a crash,
  // Recover records again those it lost. A message that failed is audited by the
  // receiver. If the journal fails, the trail syncs the entries itself; they
  // already say "success" for its messages, and the receiver then audits the
  // storage error for each and answers AE.
  std::vector<audit::Event> events;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!*outcomes[i]) continue;
    audit::Event& event = batch[i].event;
    if (batch[i].message && !(*outcomes[i])->stored) {
      event.outcome = "duplicate: acknowledged again";
      event.entities = {"message:" + batch[i].message->message.control_id};
    }
    events.push_back(std::move(event));
  }
  if (!events.empty()) entries.insert(entries.begin(), AuditRecord(events, audit_.Write(events)));
  appended = journal_.Write(entries);
  if (appended && !entries.empty()) appended = journal_.Sync();
  if (!appended) {
    settle();
    audit_.Sync();  // the journal cannot keep the entries
    Logger("results")->error("event=journal-write-failed reason=\"{}\"", appended.error().message);
  }

  std::lock_guard lock(mutex_);
  for (std::size_t j = 0; j < journaled.size() && appended; ++j) {
    Pending& p = batch[journaled[j]];
    const JournalEntry& entry = entries[entries.size() - journaled.size() + j];
    unapplied_.emplace(Key(*p.message), p.message->ack);
    journaled_ = entry.sequence;
    to_apply_.push_back({entry.sequence, std::move(*p.message)});
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].outcome = std::move(outcomes[i]);
  if (!journaled.empty() && appended) work_.notify_one();
}

void GroupCommit::Apply() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [&] { return !to_apply_.empty() || stopping_; });
    if (to_apply_.empty()) return;  // stopping, and everything is applied
    // Let a transaction's worth gather, unless a reader is waiting for it.
    work_.wait_for(lock, options_.apply_delay,
                   [&] { return to_apply_.size() >= options_.min_apply || readers_ > 0 || stopping_; });
    std::vector<Journaled> batch;
    while (!to_apply_.empty() && batch.size() < options_.max_apply) {
      batch.push_back(std::move(to_apply_.front()));
      to_apply_.pop_front();
    }
    lock.unlock();
    std::vector<storage::IncomingMessage> messages;
    messages.reserve(batch.size());
    for (auto& journaled : batch) messages.push_back(std::move(journaled.message));
    auto outcomes = store_.CommitMessages(messages);
    const std::uint64_t last = batch.back().sequence;
    Result<void> released = {};
    if (outcomes && journal_.Releasable(last)) {
      audit_.Sync();  // the journal's audit entries go with the segments
      released = store_.Sync();
      if (released) released = journal_.Release(last);
      if (!released) Logger("results")->warn("event=journal-release-failed reason=\"{}\"", released.error().message);
    }
    if (auto prepared = journal_.Prepare(); !prepared) {
      Logger("results")->warn("event=journal-prepare-failed reason=\"{}\"", prepared.error().message);
    }
    lock.lock();
    if (!outcomes) {
      // The journal has them: put them back, refuse new messages, and try again.
      Logger("results")->error("event=apply-failed messages={} reason=\"{}\"", messages.size(), outcomes.error().message);
      for (std::size_t i = batch.size(); i-- > 0;) {
        to_apply_.push_front({batch[i].sequence, std::move(messages[i])});
      }
      failing_ = outcomes.error();
      progress_.notify_all();
      work_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) {
        Logger("results")->warn("event=apply-stopped unapplied={} (kept in the journal)", to_apply_.size());
        return;
      }
      continue;
    }
    failing_.reset();
    Logger("results")->debug("event=applied messages={} backlog={}", messages.size(), to_apply_.size());
    for (const auto& message : messages) unapplied_.erase(Key(message));
    applied_ = last;
    progress_.notify_all();
  }
}

Result<void> GroupCommit::WaitApplied() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = journaled_;
  if (applied_ >= target) return {};
  ++readers_;
  work_.notify_one();
  // A failing store is read as it is (what it holds is right, only not the newest).
  progress_.wait(lock, [&] { return applied_ >= target || failing_ || stopping_; });
  --readers_;
  return {};
}

Result<std::optional<std::string>> ReadAfterAck::FindAck(const std::string& sender, const std::string& control_id) {
  return AfterAck([&] { return store_.FindAck(sender, control_id); });
}
Result<std::vector<storage::StoreOutcome>> ReadAfterAck::StoreMessages(
    const std::vector<storage::IncomingMessage>& messages) {
  return store_.StoreMessages(messages);
}
Result<std::optional<storage::StoredResource>> ReadAfterAck::Read(const std::string& type, const std::string& id,
                                                                  int version) {
  return AfterAck([&] { return store_.Read(type, id, version); });
}
Result<std::vector<storage::StoredResource>> ReadAfterAck::History(const std::string& type, const std::string& id) {
  return AfterAck([&] { return store_.History(type, id); });
}
Result<storage::SearchPage> ReadAfterAck::Search(const storage::ResourceSearch& search) {
  return AfterAck([&] { return store_.Search(search); });
}
Result<std::vector<storage::InboxEntry>> ReadAfterAck::Inbox(const std::string& practice, bool include_handled,
                                                            int limit) {
  return AfterAck([&] { return store_.Inbox(practice, include_handled, limit); });
}
Result<void> ReadAfterAck::Act(const storage::InboxAction& action) {
  return AfterAck([&] { return store_.Act(action); });
}
Result<std::vector<storage::Notification>> ReadAfterAck::Notifications(const std::string& practice,
                                                                      bool include_acknowledged) {
  return AfterAck([&] { return store_.Notifications(practice, include_acknowledged); });
}

}  // namespace dx::results
