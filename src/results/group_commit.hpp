// Group commit for incoming messages: each listener thread hands in its message
// and waits; the first in line when no commit is running commits everything
// waiting in one transaction (ResultStore::CommitMessages), hands the turn to the
// next in line, and then waits for the disk (ResultStore::Sync, one fsync for
// all commits before it) while the next batch's transaction runs. Only then are
// the batch's threads woken with their outcomes: N concurrent senders cost one
// commit, not N, and no message is acknowledged before it is durable.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "storage/api/result_store.hpp"

namespace dx::results {

class GroupCommit {
 public:
  // The store must outlive this object. At most `max_batch` messages per commit.
  explicit GroupCommit(storage::ResultStore& store, std::size_t max_batch = 512);

  // Stores the message (in some commit with others); returns when it is durable.
  Result<storage::StoreOutcome> Store(storage::IncomingMessage message);

 private:
  struct Pending {
    storage::IncomingMessage message;
    std::optional<Result<storage::StoreOutcome>> outcome;
    std::condition_variable wake;  // its outcome is set, or it may be first in line
  };

  storage::ResultStore& store_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::deque<Pending*> waiting_;  // in arrival order
  bool committing_ = false;       // a transaction is running
};

}  // namespace dx::results
