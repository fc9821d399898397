// BlobStore on a local folder: blobs at <root>/<key>, staged under <root>/tmp.
// A commit is rename(2) of a complete file, so readers never see half a blob;
// when durable the file is fsynced before the rename and its folder after
// (batched: SyncPending syncs every folder dirtied since the last call).
// Thread-safe: any number of threads may stage, commit and sync at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/api/blob_store.hpp"

namespace dx::storage {

class FilesystemBlobStore : public BlobStore {
 public:
  // Creates the folders and removes staging files left by a crash, so open at
  // most one store per root (a second would delete the first's staged files).
  static Result<std::unique_ptr<FilesystemBlobStore>> Open(const std::string& root);

  // <root>/tmp/<pid>-<random>-<counter>.part: unique across threads and processes.
  std::string NewStagingPath() override;
  // Keys are relative paths of non-empty components, none "." or "..", not
  // under tmp/; anything else is kInvalidInput.
  Result<BlobInfo> CommitStaged(const std::string& staging_path, const std::string& key, bool durable) override;
  Result<BlobInfo> MeasureStaged(const std::string& staging_path, bool durable) override;
  Result<BlobInfo> CommitMeasured(const std::string& staging_path, const std::string& key, bool durable,
                                  const BlobInfo& measured) override;
  Result<BlobInfo> Put(const std::string& key, const std::string& bytes, bool durable) override;
  Result<std::string> PathOf(const std::string& key) override;
  Result<std::string> Read(const std::string& key) override;
  Result<void> Remove(const std::string& key) override;
  // Returns once every folder dirtied by a durable commit that finished before
  // the call is on disk (a caller never returns early while another is syncing).
  Result<void> SyncPending() override;

 private:
  explicit FilesystemBlobStore(std::string root);
  Result<std::string> BlobPath(const std::string& key) const;

  const std::string root_;
  const std::string staging_;
  const std::uint64_t staging_nonce_;  // random per store, so restarts never reuse names
  std::atomic<std::uint64_t> counter_{0};
  std::mutex sync_mutex_;    // one SyncPending at a time; held while fsyncing
  std::mutex dirty_mutex_;   // guards dirty_folders_ only; never held while fsyncing
  std::set<std::string> dirty_folders_;  // folders whose new entries are not yet fsynced
};

}  // namespace dx::storage
