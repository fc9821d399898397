#include "results/group_commit.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace dx::results {
namespace {

// Keeps each message's acknowledgement and records each commit's size.
class CountingStore : public storage::ResultStore {
 public:
  Result<storage::ResourceIds> ResourceIdScheme() override { return storage::ResourceIds::kOrdered; }
  Result<std::vector<storage::StoreOutcome>> StoreMessages(const std::vector<storage::IncomingMessage>& messages) override {
    std::lock_guard lock(mutex);
    if (fail) return Fail(ErrorCode::kStorage, "disk full");
    commits.push_back(messages.size());
    std::vector<storage::StoreOutcome> out;
    for (const auto& m : messages) {
      const bool fresh = acks.emplace(m.message.control_id, m.ack).second;
      out.push_back({fresh, fresh ? "" : acks[m.message.control_id]});
    }
    return out;
  }
  Result<std::optional<std::string>> FindAck(const std::string&, const std::string& control_id) override {
    std::lock_guard lock(mutex);
    if (auto it = acks.find(control_id); it != acks.end()) return std::optional<std::string>(it->second);
    return std::optional<std::string>();
  }
  Result<std::optional<storage::StoredResource>> Read(const std::string&, const std::string&, int) override {
    return std::nullopt;
  }
  Result<std::vector<storage::StoredResource>> History(const std::string&, const std::string&) override {
    return std::vector<storage::StoredResource>{};
  }
  Result<storage::SearchPage> Search(const storage::ResourceSearch&) override { return storage::SearchPage{}; }
  Result<std::vector<storage::InboxEntry>> Inbox(const std::string&, bool, int) override {
    return std::vector<storage::InboxEntry>{};
  }
  Result<void> Act(const storage::InboxAction&) override { return {}; }
  Result<std::vector<storage::Notification>> Notifications(const std::string&, bool) override {
    return std::vector<storage::Notification>{};
  }

  std::size_t stored() {
    std::lock_guard lock(mutex);
    return acks.size();
  }

  std::mutex mutex;
  std::vector<std::size_t> commits;
  std::map<std::string, std::string> acks;  // control id -> ack
  std::atomic<bool> fail{false};
};

class RecordingAudit : public audit::AuditTrail {
 public:
  void Record(const audit::Event& event) override {
    std::lock_guard lock(mutex);
    outcomes.push_back(event.outcome);
  }
  void Sync() override { ++syncs; }
  std::mutex mutex;
  std::vector<std::string> outcomes;
  std::atomic<int> syncs{0};
};

storage::IncomingMessage Message(const std::string& id) {
  storage::IncomingMessage m;
  m.message.sender = "LAB|X";
  m.message.control_id = id;
  m.message.raw = "MSG " + id;
  m.ack = "ACK " + id;
  return m;
}

// The journaled message back: the tests' raw text is "MSG <control id>".
std::optional<storage::IncomingMessage> Rebuild(const JournalEntry& entry) {
  if (!entry.raw.starts_with("MSG ")) return std::nullopt;
  auto m = Message(entry.raw.substr(4));
  m.ack = entry.ack;
  return m;
}

// Submits the message and waits for its outcome, as a sender waits for its ACK.
Result<storage::StoreOutcome> Store(GroupCommit& group, storage::IncomingMessage message, audit::Event event) {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<Result<storage::StoreOutcome>> outcome;
  group.Submit(std::move(message), std::move(event), [&](Result<storage::StoreOutcome> result) {
    std::lock_guard lock(mutex);
    outcome = std::move(result);
    ready.notify_one();
  });
  std::unique_lock lock(mutex);
  ready.wait(lock, [&] { return outcome.has_value(); });
  return *outcome;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder = std::filesystem::temp_directory_path() /
             ("dx-group-commit-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder);
  }
  void TearDown() override { std::filesystem::remove_all(folder); }
  std::unique_ptr<Journal> OpenJournal(std::uint64_t segment_bytes = 16u << 20) {
    auto journal = Journal::Open(folder.string(), true, segment_bytes);
    EXPECT_TRUE(journal) << journal.error().message;
    return journal ? std::move(*journal) : nullptr;
  }
  audit::Event Event() { return {"hl7:LAB|X", "hl7.receive", "success", {}, "127.0.0.1"}; }

  std::filesystem::path folder;
  CountingStore store;
  RecordingAudit audit;
};

TEST_F(GroupCommitTest, ConcurrentSendersAreAllAppliedOnceInSharedTransactions) {
  auto journal = OpenJournal();
  GroupCommit group(store, *journal, audit, Rebuild, {.max_batch = 512, .max_apply = 2048, .min_apply = 64});
  ASSERT_TRUE(group.Recover());
  constexpr int kThreads = 16, kEach = 20;
  std::atomic<int> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Thread 0 repeats thread 1's ids: each is stored once.
        auto outcome = Store(group, Message(std::to_string(t == 0 ? 1 : t) + "-" + std::to_string(i)), Event());
        ASSERT_TRUE(outcome);
        (outcome->stored ? stored : duplicates)++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), (kThreads - 1) * kEach);
  EXPECT_EQ(duplicates.load(), kEach);
  ASSERT_TRUE(group.WaitApplied());
  EXPECT_EQ(store.stored(), static_cast<std::size_t>((kThreads - 1) * kEach));  // all there once read
  std::size_t total = 0;
  for (auto size : store.commits) total += size;
  EXPECT_EQ(total, static_cast<std::size_t>((kThreads - 1) * kEach));  // duplicates never reach the store
  EXPECT_LT(store.commits.size(), static_cast<std::size_t>(kThreads * kEach));  // transactions were shared
  EXPECT_EQ(std::count(audit.outcomes.begin(), audit.outcomes.end(), "success"), (kThreads - 1) * kEach);
  EXPECT_EQ(std::count(audit.outcomes.begin(), audit.outcomes.end(), "duplicate: acknowledged again"), kEach);
}

TEST_F(GroupCommitTest, ARepeatGetsTheFirstAcknowledgementBeforeAndAfterItIsApplied) {
  auto journal = OpenJournal();
  GroupCommit group(store, *journal, audit, Rebuild, {.min_apply = 1000, .apply_delay = std::chrono::seconds(30)});
  ASSERT_TRUE(group.Recover());
  ASSERT_TRUE(Store(group, Message("a"), Event())->stored);
  auto repeat = Message("a");
  repeat.ack = "ACK again";
  auto pending = Store(group, repeat, Event());  // still in the journal only
  ASSERT_TRUE(pending);
  EXPECT_FALSE(pending->stored);
  EXPECT_EQ(pending->earlier_ack, "ACK a");
  ASSERT_TRUE(group.WaitApplied());  // a reader does not wait for the delay
  EXPECT_EQ(store.stored(), 1u);
  auto applied = Store(group, repeat, Event());  // now found in the store
  EXPECT_FALSE(applied->stored);
  EXPECT_EQ(applied->earlier_ack, "ACK a");
}

TEST_F(GroupCommitTest, AFailingStoreKeepsWhatWasAcknowledgedAndRefusesNewMessagesUntilItRecovers) {
  auto journal = OpenJournal();
  GroupCommit group(store, *journal, audit, Rebuild, {.min_apply = 1});
  ASSERT_TRUE(group.Recover());
  store.fail = true;
  ASSERT_TRUE(Store(group, Message("a"), Event())->stored);  // journaled: acknowledged
  ASSERT_TRUE(group.WaitApplied());                         // returns: the store is failing
  EXPECT_EQ(store.stored(), 0u);
  auto refused = Store(group, Message("b"), Event());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kStorage);
  store.fail = false;  // the applier tries again within a second
  for (int i = 0; i < 50 && store.stored() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store.stored(), 1u);
  ASSERT_TRUE(Store(group, Message("b"), Event())->stored);
  ASSERT_TRUE(group.WaitApplied());
  EXPECT_EQ(store.stored(), 2u);
}

TEST_F(GroupCommitTest, WhatAStoppedProcessJournaledIsAppliedWhenItStartsAgain) {
  {
    auto journal = OpenJournal();
    GroupCommit group(store, *journal, audit, Rebuild, {.min_apply = 1000, .apply_delay = std::chrono::seconds(30)});
    ASSERT_TRUE(group.Recover());
    for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(Store(group, Message(id), Event())->stored);
    store.fail = true;  // nothing reaches the store, as if the process were killed
  }
  EXPECT_EQ(store.stored(), 0u);
  store.fail = false;
  auto journal = OpenJournal();
  GroupCommit group(store, *journal, audit, Rebuild);
  auto recovered = group.Recover();
  ASSERT_TRUE(recovered) << recovered.error().message;
  EXPECT_EQ(*recovered, 3u);
  EXPECT_EQ(store.acks["b"], "ACK b");
  EXPECT_EQ(journal->segments(), 1u);  // the recovered segments are gone
  ASSERT_TRUE(Store(group, Message("d"), Event())->stored);  // numbering goes on
  ASSERT_TRUE(group.WaitApplied());
  EXPECT_EQ(store.stored(), 4u);
}

// A message is answered only once its audit entry is recorded.
TEST_F(GroupCommitTest, EveryMessageIsAuditedBeforeItIsAnswered) {
  class SlowAudit : public audit::AuditTrail {
   public:
    void Record(const audit::Event& event) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // slower than the journal's sync
      std::lock_guard lock(mutex);
      recorded.push_back(event.entities.front());
    }
    bool Has(const std::string& entity) {
      std::lock_guard lock(mutex);
      return std::find(recorded.begin(), recorded.end(), entity) != recorded.end();
    }
    std::mutex mutex;
    std::vector<std::string> recorded;
  } slow;
  auto journal = OpenJournal();
  GroupCommit group(store, *journal, slow, Rebuild, {.min_apply = 1});
  ASSERT_TRUE(group.Recover());
  constexpr int kSenders = 6;
  std::atomic<int> answered_unaudited{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        audit::Event event = Event();
        event.entities = {"message:" + id};
        auto outcome = Store(group, Message(id), event);
        ASSERT_TRUE(outcome);
        if (!slow.Has("message:" + id)) ++answered_unaudited;
      }
    });
  }
  for (auto& sender : senders) sender.join();
  EXPECT_EQ(answered_unaudited.load(), 0);
  EXPECT_EQ(slow.recorded.size(), static_cast<std::size_t>(kSenders * 3));
}

// A batch's audit entries reach the audit trail at once but its disk only later:
// until then the journal keeps them too. After a crash, those the trail lost are
// recorded again, and those it kept are not recorded twice.
TEST_F(GroupCommitTest, AuditEntriesTheTrailLostInACrashAreRecordedAgainFromTheJournal) {
  const std::string trail_path = (folder / "audit.log").string();
  const auto lines = [&] {
    std::vector<std::string> read;
    std::ifstream in(trail_path);
    for (std::string line; std::getline(in, line);) read.push_back(line);
    return read;
  };
  const auto count = [&](const std::string& entity) {
    const auto all = lines();
    return std::count_if(all.begin(), all.end(), [&](const std::string& l) { return l.find(entity) != l.npos; });
  };
  std::filesystem::create_directories(folder);
  {
    auto trail = audit::FileAuditTrail::Open(trail_path, true);
    ASSERT_TRUE(trail);
    auto journal = OpenJournal();
    GroupCommit group(store, *journal, **trail, Rebuild, {.min_apply = 1000, .apply_delay = std::chrono::seconds(30)});
    ASSERT_TRUE(group.Recover());
    for (const char* id : {"a", "b", "c"}) {
      audit::Event event = Event();
      event.entities = {"message:" + std::string(id)};
      ASSERT_TRUE(Store(group, Message(id), event)->stored);
    }
    store.fail = true;  // nothing reaches the store, as if the process were killed
  }
  ASSERT_EQ(lines().size(), 3u);
  // A crash before the trail's fdatasync: its last entry lost.
  {
    auto kept = lines();
    std::ofstream out(trail_path, std::ios::trunc);
    out << kept[0] << "\n" << kept[1] << "\n";
  }
  store.fail = false;
  for (int start = 0; start < 2; ++start) {  // the second start finds nothing lost
    auto trail = audit::FileAuditTrail::Open(trail_path, true);
    ASSERT_TRUE(trail);
    auto journal = OpenJournal();
    GroupCommit group(store, *journal, **trail, Rebuild);
    auto recovered = group.Recover();
    ASSERT_TRUE(recovered) << recovered.error().message;
    for (const char* id : {"a", "b", "c"}) EXPECT_EQ(count("message:" + std::string(id)), 1) << id;
  }
  EXPECT_EQ(store.stored(), 3u);
  auto verified = audit::FileAuditTrail::Verify(trail_path);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, 3u);
}

// The journal lets go of a batch's audit entries only after the trail's Sync.
TEST_F(GroupCommitTest, TheAuditTrailIsSyncedBeforeJournalSegmentsAreRemoved) {
  auto journal = OpenJournal(300);  // a new segment every few entries
  GroupCommit group(store, *journal, audit, Rebuild, {.min_apply = 1});
  ASSERT_TRUE(group.Recover());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Store(group, Message(std::to_string(i)), Event())->stored);
  ASSERT_TRUE(group.WaitApplied());
  for (int i = 0; i < 50 && journal->segments() > 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_LE(journal->segments(), 2u);  // applied segments are gone
  EXPECT_GT(audit.syncs.load(), 0);
}

// A durable segment is all zeros on disk before its first entry, so writing an
// entry changes neither its size nor its blocks; Prepare makes the next one ahead.
TEST_F(GroupCommitTest, JournalSegmentsAreZeroFilledBeforeUseAndTheNextIsPreparedAhead) {
  const auto files = [&] {
    std::map<std::string, std::uintmax_t> sizes;
    for (const auto& file : std::filesystem::directory_iterator(folder)) {
      sizes[file.path().filename().string()] = file.file_size();
    }
    return sizes;
  };
  const std::string first = "0000000000000001.log", second = "0000000000000002.log";
  std::uint64_t end_of_second_batch = 0;
  {
    auto journal = OpenJournal(4096);
    EXPECT_EQ(files(), (std::map<std::string, std::uintmax_t>{{first, 4096}}));
    for (int batch = 0; batch < 2; ++batch) {
      std::vector<JournalEntry> entries{{0, "t", "ACK", "MSG " + std::to_string(batch)}};
      ASSERT_TRUE(journal->Write(entries));
      ASSERT_TRUE(journal->Sync());
    }
    end_of_second_batch = 2 * (12 + 8 + 12 + 1 + 3 + 5);
    EXPECT_EQ(files(), (std::map<std::string, std::uintmax_t>{{first, 4096}}));
    ASSERT_TRUE(journal->Prepare());
    EXPECT_EQ(files(), (std::map<std::string, std::uintmax_t>{{first, 4096}, {second, 4096}}));
    std::vector<JournalEntry> big{{0, "t", "ACK", "MSG big " + std::string(4096, 'x')}};
    ASSERT_TRUE(journal->Write(big));  // past the end of the first segment
    std::vector<JournalEntry> next{{0, "t", "ACK", "MSG 3"}};
    ASSERT_TRUE(journal->Write(next));  // into the prepared one
    ASSERT_TRUE(journal->Sync());
    EXPECT_EQ(files().size(), 2u);
    EXPECT_EQ(files()[second], 4096u);
  }
  {
    auto journal = OpenJournal(4096);
    auto recovered = journal->Recovered();
    ASSERT_EQ(recovered.size(), 4u);
    EXPECT_EQ(recovered[3].raw, "MSG 3");
    EXPECT_EQ(recovered[3].sequence, 4u);
  }
  // A crash while the next batch was written over the zeros: half an entry after
  // the second; the entries before it are kept, the first segment's later ones dropped.
  {
    std::fstream torn(folder / first, std::ios::binary | std::ios::in | std::ios::out);
    torn.seekp(static_cast<std::streamoff>(end_of_second_batch));
    torn.write("\x44\x58\x4a\x31\xff\x00\x00\x00garbage", 15);
  }
  auto journal = OpenJournal(4096);
  auto recovered = journal->Recovered();
  ASSERT_EQ(recovered.size(), 3u);
  EXPECT_EQ(recovered[1].raw, "MSG 1");
  EXPECT_EQ(recovered[2].raw, "MSG 3");
  // Segments that hold nothing (the one each start opens, unused) are removed on opening.
  EXPECT_EQ(files().size(), 3u);
}

TEST_F(GroupCommitTest, JournalDropsATornBatchAndReleasesAppliedSegments) {
  std::uint64_t last = 0;
  {
    auto journal = OpenJournal(200);  // a new segment every few entries
    for (int batch = 0; batch < 5; ++batch) {
      std::vector<JournalEntry> entries{{0, "2026-11-23T10:00:00Z", "ACK", "MSG " + std::to_string(batch)},
                                        {0, "", "", std::string(100, 'x'), JournalEntry::Kind::kAudit}};
      ASSERT_TRUE(journal->Write(entries));
      ASSERT_TRUE(journal->Sync());
      last = entries.back().sequence;
    }
    EXPECT_EQ(last, 10u);
    EXPECT_GT(journal->segments(), 2u);
  }
  // A crash in the middle of writing the next batch: half an entry at the end.
  std::filesystem::path newest;
  for (const auto& file : std::filesystem::directory_iterator(folder)) newest = std::max(newest, file.path());
  {
    std::ofstream torn(newest, std::ios::binary | std::ios::app);
    torn.write("\x44\x58\x4a\x31\xff\x00\x00\x00garbage", 15);
  }
  auto journal = OpenJournal(200);
  auto recovered = journal->Recovered();
  ASSERT_EQ(recovered.size(), 10u);
  for (std::size_t i = 0; i < recovered.size(); ++i) EXPECT_EQ(recovered[i].sequence, i + 1);
  EXPECT_EQ(recovered[2].raw, "MSG 1");
  EXPECT_EQ(recovered[2].kind, JournalEntry::Kind::kMessage);
  EXPECT_EQ(recovered[3].kind, JournalEntry::Kind::kAudit);
  EXPECT_FALSE(journal->Releasable(1));  // the first segment holds entries 1 and 2
  EXPECT_TRUE(journal->Releasable(last));
  ASSERT_TRUE(journal->Release(last));
  EXPECT_EQ(journal->segments(), 1u);
  std::vector<JournalEntry> next{{0, "t", "a", "MSG next"}};
  ASSERT_TRUE(journal->Write(next));
  ASSERT_TRUE(journal->Sync());
  EXPECT_EQ(next[0].sequence, 11u);
}

}  // namespace
}  // namespace dx::results
