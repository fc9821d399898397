// Where object bytes live, by key. Writes become visible whole or not at all
// (temp file, fsync when durable, rename). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace dx::storage {

struct BlobInfo {
  std::string key;
  std::uint64_t size_bytes = 0;
  std::string sha256;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // A fresh path in the store's staging area where a writer (for example the
  // DIMSE receiver) may put a whole file before committing it.
  virtual std::string NewStagingPath() = 0;

  // Moves a finished staging file under `key` (replacing any blob with that
  // key), computing its SHA-256; with `durable`, fsyncs the file and folder first.
  // The same as MeasureStaged followed by CommitMeasured.
  virtual Result<BlobInfo> CommitStaged(const std::string& staging_path, const std::string& key,
                                        bool durable) = 0;

  // The size and SHA-256 of a staging file (key left empty); with `durable`, also
  // fsyncs it. Lets a caller checksum on one thread while it parses on another.
  virtual Result<BlobInfo> MeasureStaged(const std::string& staging_path, bool durable) = 0;
  // Commits a staging file already measured by MeasureStaged (same `durable`).
  virtual Result<BlobInfo> CommitMeasured(const std::string& staging_path, const std::string& key, bool durable,
                                          const BlobInfo& measured) = 0;

  // Writes `bytes` under `key` atomically.
  virtual Result<BlobInfo> Put(const std::string& key, const std::string& bytes, bool durable) = 0;

  // Local path of the blob for readers that stream from a file.
  virtual Result<std::string> PathOf(const std::string& key) = 0;

  virtual Result<std::string> Read(const std::string& key) = 0;
  virtual Result<void> Remove(const std::string& key) = 0;

  // Fsyncs whatever committed blobs are not yet durable (used by group commit).
  virtual Result<void> SyncPending() = 0;
};

}  // namespace dx::storage
