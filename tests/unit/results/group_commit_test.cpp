#include "results/group_commit.hpp"

#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace dx::results {
namespace {

// Records each commit's size; slow enough that concurrent senders pile up.
class CountingStore : public storage::ResultStore {
 public:
  Result<std::vector<storage::StoreOutcome>> StoreMessages(const std::vector<storage::IncomingMessage>& messages) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(mutex);
    if (fail) return Fail(ErrorCode::kStorage, "disk full");
    commits.push_back(messages.size());
    std::vector<storage::StoreOutcome> out;
    for (const auto& m : messages) {
      const bool fresh = seen.insert(m.message.control_id).second;
      out.push_back({fresh, fresh ? "" : "earlier"});
    }
    return out;
  }
  Result<void> Sync() override {
    std::lock_guard lock(mutex);
    synced_commits = commits.size();
    if (fail_sync) return Fail(ErrorCode::kStorage, "I/O error");
    return {};
  }
  Result<std::optional<std::string>> FindAck(const std::string&, const std::string&) override { return std::nullopt; }
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

  std::mutex mutex;
  std::vector<std::size_t> commits;
  std::set<std::string> seen;
  std::size_t synced_commits = 0;  // commits made before the last Sync
  bool fail = false, fail_sync = false;
};

storage::IncomingMessage Message(const std::string& id) {
  storage::IncomingMessage m;
  m.message.sender = "LAB|X";
  m.message.control_id = id;
  m.ack = "ACK " + id;
  return m;
}

TEST(GroupCommit, ConcurrentSendersShareCommitsAndEachGetsItsOwnOutcome) {
  CountingStore store;
  GroupCommit group(store);
  constexpr int kThreads = 16, kEach = 20;
  std::atomic<int> stored{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Thread 0 repeats thread 1's ids: each is stored once.
        auto outcome = group.Store(Message(std::to_string(t == 0 ? 1 : t) + "-" + std::to_string(i)));
        ASSERT_TRUE(outcome);
        (outcome->stored ? stored : duplicates)++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), (kThreads - 1) * kEach);
  EXPECT_EQ(duplicates.load(), kEach);
  std::size_t total = 0;
  for (auto size : store.commits) total += size;
  EXPECT_EQ(total, static_cast<std::size_t>(kThreads * kEach));
  EXPECT_LT(store.commits.size(), static_cast<std::size_t>(kThreads * kEach));  // commits were shared
}

TEST(GroupCommit, AFailedCommitFailsEveryMessageInIt) {
  CountingStore store;
  store.fail = true;
  GroupCommit group(store);
  auto outcome = group.Store(Message("a"));
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kStorage);
  store.fail = false;
  EXPECT_TRUE(group.Store(Message("a"))->stored);  // and the next one works
}

TEST(GroupCommit, AnOutcomeComesOnlyAfterTheSyncThatCoversItsCommit) {
  CountingStore store;
  GroupCommit group(store);
  ASSERT_TRUE(group.Store(Message("a")));
  EXPECT_EQ(store.synced_commits, 1u);
  ASSERT_TRUE(group.Store(Message("b")));
  EXPECT_EQ(store.synced_commits, 2u);
}

TEST(GroupCommit, AFailedSyncFailsTheMessagesItWasToCover) {
  CountingStore store;
  store.fail_sync = true;
  GroupCommit group(store);
  auto outcome = group.Store(Message("a"));
  ASSERT_FALSE(outcome);  // committed, but not known to be on disk: not acknowledged
  EXPECT_EQ(outcome.error().code, ErrorCode::kStorage);
  store.fail_sync = false;
  auto again = group.Store(Message("a"));  // the sender's retry is answered as a repeat
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->stored);
}

TEST(GroupCommit, BatchesAreCapped) {
  CountingStore store;
  GroupCommit group(store, 3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) threads.emplace_back([&, t] { ASSERT_TRUE(group.Store(Message(std::to_string(t)))); });
  for (auto& thread : threads) thread.join();
  for (auto size : store.commits) EXPECT_LE(size, 3u);
}

}  // namespace
}  // namespace dx::results
