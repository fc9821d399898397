#include "archive/group_commit.hpp"

namespace dx::archive {

GroupCommit::GroupCommit(storage::InstanceIndex& index, storage::BlobStore& blobs, bool durable, int max_batch,
                         bool replace_existing)
    : index_(index),
      blobs_(blobs),
      durable_(durable),
      max_batch_(static_cast<std::size_t>(max_batch)),
      replace_existing_(replace_existing),
      writer_([this] { Run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  writer_.join();
}

Result<storage::InsertResult> GroupCommit::Submit(storage::InstanceRecord record) {
  std::future<Result<storage::InsertResult>> done;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Fail(ErrorCode::kUnavailable, "the archive is shutting down");
    queue_.push_back(Pending{std::move(record), {}});
    done = queue_.back().done.get_future();
  }
  ready_.notify_one();
  return done.get();
}

void GroupCommit::Run() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<storage::InstanceRecord> records;
    records.reserve(batch.size());
    for (auto& pending : batch) records.push_back(pending.record);
    Result<std::vector<storage::InsertResult>> results = [&]() -> Result<std::vector<storage::InsertResult>> {
      if (durable_) {
        if (auto synced = blobs_.SyncPending(); !synced) return tl::unexpected(synced.error());
      }
      return index_.InsertBatch(records, replace_existing_);
    }();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (results) {
        batch[i].done.set_value((*results)[i]);
      } else {
        batch[i].done.set_value(tl::unexpected(results.error()));
      }
    }
  }
}

}  // namespace dx::archive
