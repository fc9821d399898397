#include "archive/ingest.hpp"

#include <chrono>
#include <future>
#include <cstdio>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/rand.h>

#include "archive/record.hpp"
#include "core/hash.hpp"
#include "core/logging.hpp"
#include "dicom/file_reader.hpp"

namespace dx::archive {
namespace {

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::time_point_cast<std::chrono::seconds>(now));
}

// Blobs are grouped by study under a two-level fan-out; names carry no UIDs
// (error messages and logs may show keys); the random suffix keeps a replacement
// from ever overwriting the bytes the index still points at.
std::string BlobKey(const storage::InstanceRecord& record) {
  const std::string study_hash = Sha256Hex(record.study_instance_uid);
  const std::string instance_hash = Sha256Hex(record.sop_instance_uid);
  unsigned char random[6];
  RAND_bytes(random, sizeof random);
  std::string suffix;
  for (unsigned char byte : random) suffix += fmt::format("{:02x}", byte);
  return fmt::format("{}/{}/{}/{}-{}.dcm", study_hash.substr(0, 2), study_hash.substr(2, 2), study_hash.substr(4, 16),
                     instance_hash.substr(0, 32), suffix);
}

ErrorInfo DuplicateError(DuplicatePolicy policy) {
  if (policy == DuplicatePolicy::kReject) {
    return {ErrorCode::kConflict, "SOP Instance UID already stored (duplicate policy: reject)"};
  }
  return {ErrorCode::kConflict, "SOP Instance UID already stored with different content"};
}

}  // namespace

Ingest::Ingest(IngestOptions options, storage::InstanceIndex& index, storage::BlobStore& blobs)
    : options_(options),
      blobs_(blobs),
      group_commit_(index, blobs, options.durable, options.max_batch,
                    options.duplicate_policy == DuplicatePolicy::kKeepNewest) {}

std::string Ingest::StagingPath() { return blobs_.NewStagingPath(); }

Result<IngestOutcome> Ingest::StoreStaged(const std::string& staged_path, const std::string& calling_ae,
                                          const std::string& expected_sop_instance_uid,
                                          const std::string& expected_study_instance_uid,
                                          IngestOutcome* identified) {
  auto discard = [&](ErrorInfo error) -> Result<IngestOutcome> {
    std::remove(staged_path.c_str());
    return tl::unexpected(std::move(error));
  };
  // The checksum (a full read of the file) runs beside the parse (which reads
  // only up to the pixel data): on one association they are the critical path.
  auto measuring = std::async(std::launch::async,
                              [this, &staged_path] { return blobs_.MeasureStaged(staged_path, options_.durable); });
  auto parsed = dicom::ReadDicomFile(staged_path);
  auto measured = measuring.get();
  if (!parsed) return discard(parsed.error());
  if (!measured) return discard(measured.error());
  auto record = RecordFromFile(*parsed);
  if (!record) return discard(record.error());
  IngestOutcome outcome{IngestStatus::kStored, record->study_instance_uid, record->sop_instance_uid,
                        record->sop_class_uid, record->series_instance_uid, record->accession_number};
  if (identified) *identified = outcome;
  if (!expected_sop_instance_uid.empty() && expected_sop_instance_uid != record->sop_instance_uid) {
    return discard({ErrorCode::kInvalidInput, "SOP Instance UID of the data set differs from the request"});
  }
  if (!expected_study_instance_uid.empty() && expected_study_instance_uid != record->study_instance_uid) {
    return discard({ErrorCode::kRefused, "the data set belongs to another study than the one it was sent to"});
  }

  const std::string key = BlobKey(*record);
  auto blob = blobs_.CommitMeasured(staged_path, key, options_.durable, *measured);
  if (!blob) return discard(blob.error());
  record->blob_key = blob->key;
  record->size_bytes = blob->size_bytes;
  record->sha256 = blob->sha256;
  record->received_at = NowIso();
  record->calling_ae = calling_ae;

  auto inserted = group_commit_.Submit(*record);
  if (!inserted) {
    blobs_.Remove(key);
    return tl::unexpected(inserted.error());
  }
  switch (inserted->outcome) {
    case storage::InsertOutcome::kInserted:
      if (observer_) observer_(outcome, calling_ae);
      return outcome;
    case storage::InsertOutcome::kReplaced:
      if (!inserted->previous_blob_key.empty() && inserted->previous_blob_key != key) {
        blobs_.Remove(inserted->previous_blob_key);
      }
      outcome.status = IngestStatus::kReplaced;
      return outcome;
    case storage::InsertOutcome::kDuplicate:
      // The index settles duplicates inside the write transaction, so two copies
      // arriving at once cannot both win.
      blobs_.Remove(key);
      if (options_.duplicate_policy == DuplicatePolicy::kIgnoreIdentical && inserted->previous_sha256 == blob->sha256) {
        outcome.status = IngestStatus::kIdenticalIgnored;
        return outcome;
      }
      return tl::unexpected(DuplicateError(options_.duplicate_policy));
  }
  return outcome;
}

Result<IngestOutcome> Ingest::ImportFile(const std::string& source_path) {
  const std::string staged = StagingPath();
  std::error_code error;
  std::filesystem::copy_file(source_path, staged, std::filesystem::copy_options::overwrite_existing, error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot copy into staging: {}", error.message()));
  return StoreStaged(staged, "IMPORT");
}

}  // namespace dx::archive
