// The ingest pipeline shared by every way objects arrive (C-STORE, import,
// later STOW-RS): parse a staged file, apply the duplicate policy, commit the
// blob (temp file → fsync when durable → rename) and the index row through
// group commit. Callers on many threads overlap parsing and blob writes; index
// writes are batched. A successful return means the object survives kill -9
// (and power loss when durable). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "archive/group_commit.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::archive {

struct IngestOptions {
  DuplicatePolicy duplicate_policy = DuplicatePolicy::kIgnoreIdentical;
  bool durable = false;
  int max_batch = 256;
};

enum class IngestStatus {
  kStored,            // a new instance
  kReplaced,          // replaced a stored instance (keep-newest)
  kIdenticalIgnored,  // the same bytes were already stored (ignore-identical)
};

struct IngestOutcome {
  IngestStatus status = IngestStatus::kStored;
  std::string study_instance_uid;
  std::string sop_instance_uid;
  std::string sop_class_uid;
  std::string series_instance_uid;
  std::string accession_number;
};

// Told of every object newly stored (not of duplicates), on the storing thread.
using StoredObserver = std::function<void(const IngestOutcome&, const std::string& calling_ae)>;

class Ingest {
 public:
  Ingest(IngestOptions options, storage::InstanceIndex& index, storage::BlobStore& blobs);

  // A path where a receiver may write the next object.
  std::string StagingPath();

  // Stores the Part 10 file at `staged_path`, which Ingest owns from now on (it
  // is moved into the blob store or deleted). `expected_sop_instance_uid`, when
  // not empty, must equal the data set's (the C-STORE request's UID);
  // `expected_study_instance_uid` likewise (STOW-RS to /studies/{study}).
  // Errors: kInvalidInput (malformed, missing UIDs), kRefused (another study than
  // expected), kConflict (duplicate refused by policy), kStorage. `identified`,
  // when given, receives the data set's UIDs as soon as it is parsed, so that a
  // refusal can still name the instance it refused.
  Result<IngestOutcome> StoreStaged(const std::string& staged_path, const std::string& calling_ae,
                                    const std::string& expected_sop_instance_uid = "",
                                    const std::string& expected_study_instance_uid = "",
                                    IngestOutcome* identified = nullptr);

  // Sets the observer (before objects arrive: not synchronised with storing).
  void SetObserver(StoredObserver observer) { observer_ = std::move(observer); }

  // Copies `source_path` into staging and stores it (for `dxhub import`).
  Result<IngestOutcome> ImportFile(const std::string& source_path);

 private:
  IngestOptions options_;
  storage::BlobStore& blobs_;
  GroupCommit group_commit_;
  StoredObserver observer_;
};

}  // namespace dx::archive
