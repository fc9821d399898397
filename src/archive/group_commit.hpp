// Group commit of index writes: callers on many threads submit one record each
// and wait; one writer thread applies whatever has queued up in a single
// transaction (and, when durable, one batched directory fsync first), then wakes
// every caller with its outcome. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::archive {

class GroupCommit {
 public:
  GroupCommit(storage::InstanceIndex& index, storage::BlobStore& blobs, bool durable, int max_batch,
              bool replace_existing);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Blocks until the record is committed (or the batch failed).
  Result<storage::InsertResult> Submit(storage::InstanceRecord record);

 private:
  struct Pending {
    storage::InstanceRecord record;
    std::promise<Result<storage::InsertResult>> done;
  };
  void Run();

  storage::InstanceIndex& index_;
  storage::BlobStore& blobs_;
  const bool durable_;
  const std::size_t max_batch_;
  const bool replace_existing_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace dx::archive
