// Group commit of index writes: callers on many threads submit one record each
// and wait. Whoever arrives while no commit is running becomes the leader: it
// takes everything queued (up to the batch limit), applies it in one transaction
// (and, when durable, one batched directory fsync first) and wakes the others
// with their outcomes. A lone caller commits on its own thread with no hand-off;
// concurrent callers share transactions. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::archive {

class GroupCommit {
 public:
  GroupCommit(storage::InstanceIndex& index, storage::BlobStore& blobs, bool durable, int max_batch,
              bool replace_existing);

  // Blocks until the record is committed (or its batch failed).
  Result<storage::InsertResult> Submit(storage::InstanceRecord record);

 private:
  struct Pending {
    storage::InstanceRecord record;
    std::optional<Result<storage::InsertResult>> result;
  };

  storage::InstanceIndex& index_;
  storage::BlobStore& blobs_;
  const bool durable_;
  const std::size_t max_batch_;
  const bool replace_existing_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::deque<Pending*> queue_;
  bool committing_ = false;
};

}  // namespace dx::archive
