#include "results/group_commit.hpp"

#include <vector>

namespace dx::results {

GroupCommit::GroupCommit(storage::ResultStore& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch == 0 ? 1 : max_batch) {}

Result<storage::StoreOutcome> GroupCommit::Store(storage::IncomingMessage message) {
  Pending pending{std::move(message), std::nullopt, {}};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&pending);
  pending.wake.wait(lock, [&] {
    return pending.outcome || (!committing_ && !waiting_.empty() && waiting_.front() == &pending);
  });
  if (pending.outcome) return *pending.outcome;  // an earlier commit took it

  // First in line: commit for everyone waiting, this thread among them.
  committing_ = true;
  std::vector<Pending*> batch;
  while (!waiting_.empty() && batch.size() < max_batch_) {
    batch.push_back(waiting_.front());
    waiting_.pop_front();
  }
  std::vector<storage::IncomingMessage> messages;
  messages.reserve(batch.size());
  for (auto* p : batch) messages.push_back(std::move(p->message));
  lock.unlock();
  auto outcomes = store_.CommitMessages(messages);
  lock.lock();
  committing_ = false;
  if (!waiting_.empty()) waiting_.front()->wake.notify_one();  // the next transaction is theirs
  lock.unlock();
  if (outcomes) {
    if (auto synced = store_.Sync(); !synced) outcomes = tl::unexpected(synced.error());
  }
  lock.lock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (outcomes) {
      batch[i]->outcome = (*outcomes)[i];
    } else {
      batch[i]->outcome = tl::unexpected(outcomes.error());
    }
    if (batch[i] != &pending) batch[i]->wake.notify_one();
  }
  return *pending.outcome;
}

}  // namespace dx::results
