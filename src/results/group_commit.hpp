// Group commit for incoming messages: each listener thread hands in its message
// and waits; whichever thread finds no commit running stores everything waiting
// in one ResultStore::StoreMessages call (one transaction, one fsync when
// durable) and wakes the others with their outcomes. N concurrent senders cost
// one commit, not N, and no message is acknowledged before it is durable.
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

  // Stores the message (in some commit with others); returns when it is stored.
  Result<storage::StoreOutcome> Store(storage::IncomingMessage message);

 private:
  struct Pending {
    storage::IncomingMessage message;
    std::optional<Result<storage::StoreOutcome>> outcome;
  };

  storage::ResultStore& store_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::deque<Pending*> waiting_;
  bool committing_ = false;
};

}  // namespace dx::results
