// BlobStore on a local folder: blobs at <root>/<key>, staged under <root>/tmp.
// A commit is rename(2) of a complete file, so readers never see half a blob;
// when durable the file is fsynced before the rename and its folder after
// (batched in SyncPending). Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/api/blob_store.hpp"

namespace dx::storage {

class FilesystemBlobStore : public BlobStore {
 public:
  // Creates the folders and removes staging files left by a crash.
  static Result<std::unique_ptr<FilesystemBlobStore>> Open(const std::string& root);

  std::string NewStagingPath() override;
  Result<BlobInfo> CommitStaged(const std::string& staging_path, const std::string& key, bool durable) override;
  Result<BlobInfo> Put(const std::string& key, const std::string& bytes, bool durable) override;
  Result<std::string> PathOf(const std::string& key) override;
  Result<std::string> Read(const std::string& key) override;
  Result<void> Remove(const std::string& key) override;
  Result<void> SyncPending() override;

 private:
  explicit FilesystemBlobStore(std::string root);
  Result<std::string> BlobPath(const std::string& key) const;

  const std::string root_;
  const std::string staging_;
  std::atomic<std::uint64_t> counter_{0};
  std::mutex dirty_mutex_;
  std::set<std::string> dirty_folders_;  // folders whose new entries are not yet fsynced
};

}  // namespace dx::storage
