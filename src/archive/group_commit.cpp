#include "archive/group_commit.hpp"

#include <vector>

namespace dx::archive {

GroupCommit::GroupCommit(storage::InstanceIndex& index, storage::BlobStore& blobs, bool durable, int max_batch,
                         bool replace_existing)
    : index_(index),
      blobs_(blobs),
      durable_(durable),
      max_batch_(static_cast<std::size_t>(max_batch)),
      replace_existing_(replace_existing) {}

Result<storage::InsertResult> GroupCommit::Submit(storage::InstanceRecord record) {
  Pending mine{std::move(record), std::nullopt};
  std::unique_lock lock(mutex_);
  queue_.push_back(&mine);
  while (!mine.result) {
    if (committing_) {
      done_.wait(lock);
      continue;
    }
    // Lead one commit of whatever is queued, ours first among them.
    committing_ = true;
    std::vector<Pending*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<storage::InstanceRecord> records;
    records.reserve(batch.size());
    for (auto* pending : batch) records.push_back(std::move(pending->record));
    Result<std::vector<storage::InsertResult>> results = [&]() -> Result<std::vector<storage::InsertResult>> {
      if (durable_) {
        if (auto synced = blobs_.SyncPending(); !synced) return tl::unexpected(synced.error());
      }
      return index_.InsertBatch(records, replace_existing_);
    }();
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = results ? Result<storage::InsertResult>((*results)[i])
                                 : Result<storage::InsertResult>(tl::unexpected(results.error()));
    }
    committing_ = false;
    done_.notify_all();
  }
  return std::move(*mine.result);
}

}  // namespace dx::archive
