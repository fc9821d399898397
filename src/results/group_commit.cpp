#include "results/group_commit.hpp"

#include <vector>

namespace dx::results {

GroupCommit::GroupCommit(storage::ResultStore& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch == 0 ? 1 : max_batch) {}

Result<storage::StoreOutcome> GroupCommit::Store(storage::IncomingMessage message) {
  Pending pending{std::move(message), std::nullopt};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&pending);
  while (!pending.outcome) {
    if (committing_) {
      done_.wait(lock);
      continue;
    }
    // This thread commits for everyone waiting (itself among them, unless an
    // earlier commit already took its message).
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
    auto outcomes = store_.StoreMessages(messages);
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (outcomes) {
        batch[i]->outcome = (*outcomes)[i];
      } else {
        batch[i]->outcome = tl::unexpected(outcomes.error());
      }
    }
    committing_ = false;
    done_.notify_all();
  }
  return *pending.outcome;
}

}  // namespace dx::results
