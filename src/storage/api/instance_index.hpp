// The archive's index: patients, studies, series and instances with the
// attributes PS3.4 C.6 requires for query, the NHS number, issuer-qualified
// PatientID, and each instance's DICOM JSON (PS3.18 F.2) kept at ingest.
// Implementations must be safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::storage {

// Everything ingest knows about one stored instance (one row per level when
// the level is new; later instances of a study update the study's attributes).
struct InstanceRecord {
  // Patient level
  std::string patient_id;          // (0010,0020)
  std::string issuer_of_patient_id;// (0010,0021); "" when absent
  std::string patient_name;        // (0010,0010) as stored (PN, '^'-separated)
  std::string patient_birth_date;  // (0010,0030) YYYYMMDD
  std::string patient_sex;         // (0010,0040)
  std::string nhs_number;          // 10 digits when a valid NHS number was found, else ""
  // Study level
  std::string study_instance_uid;  // (0020,000D)
  std::string study_date;          // (0008,0020)
  std::string study_time;          // (0008,0030)
  std::string accession_number;    // (0008,0050)
  std::string study_id;            // (0020,0010)
  std::string study_description;   // (0008,1030)
  std::string referring_physician_name;  // (0008,0090)
  // Series level
  std::string series_instance_uid; // (0020,000E)
  std::string modality;            // (0008,0060)
  std::string series_number;       // (0020,0011) as text
  std::string series_description;  // (0008,103E)
  std::string body_part_examined;  // (0018,0015)
  // Instance level
  std::string sop_instance_uid;    // (0008,0018)
  std::string sop_class_uid;       // (0008,0016)
  std::string instance_number;     // (0020,0013) as text
  std::string transfer_syntax_uid; // (0002,0010) as received
  std::int64_t number_of_frames = 1;
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  // Storage
  std::string blob_key;            // BlobStore key of the file
  std::uint64_t size_bytes = 0;
  std::string sha256;              // of the whole stored file
  std::string dicom_json;          // PS3.18 F.2 object of the instance, bulk data as BulkDataURI
  std::string received_at;         // ISO 8601 UTC
  std::string calling_ae;          // who sent it
};

enum class QueryLevel { kPatient, kStudy, kSeries, kInstance };

// One matching key of a query (PS3.4 C.2.2.2).
struct Match {
  enum class Kind {
    kSingleValue,   // exact
    kWildcard,      // value holds '*' and '?' (PS3.4 C.2.2.2.4)
    kRange,         // low/high; either may be empty (open range), PS3.4 C.2.2.2.5
    kList,          // values: any of (UID list, PS3.4 C.2.2.2.2 / multi-valued)
    kFuzzyName,     // person names, PS3.4 C.2.2.2.1.2: every value (an upper-case word)
                    // begins some component of the name, ignoring case
  };
  std::string column;   // one of the column names below
  Kind kind = Kind::kSingleValue;
  std::vector<std::string> values;  // kSingleValue/kWildcard: one; kRange: {low, high}; kList: many
};

// Column names a Match may use, by level (index columns):
//  patient:  patient_id, issuer_of_patient_id, patient_name, patient_birth_date, patient_sex, nhs_number
//  study:    study_instance_uid, study_date, study_time, accession_number, study_id,
//            study_description, referring_physician_name, modalities_in_study
//  series:   series_instance_uid, modality, series_number, series_description, body_part_examined
//  instance: sop_instance_uid, sop_class_uid, instance_number
// A query at one level may use keys of that level and of the levels above it
// (Study Root study queries use patient keys too). modalities_in_study matches
// a study when any of its series has a listed modality.
struct Query {
  QueryLevel level = QueryLevel::kStudy;
  std::vector<Match> matches;
  std::size_t limit = 0;   // 0: no limit
  std::size_t offset = 0;
};

// One result row: the attributes of the matched entity and of the levels above it,
// plus computed counts.
struct QueryRow {
  InstanceRecord attributes;        // fields of the row's level and above are filled
  std::string modalities_in_study;  // '\\'-separated, study level and below
  std::int64_t study_related_series = 0;
  std::int64_t study_related_instances = 0;
  std::int64_t series_related_instances = 0;
  std::int64_t patient_related_studies = 0;
  std::int64_t patient_related_series = 0;
  std::int64_t patient_related_instances = 0;
};

// Where an instance's bytes live.
struct StoredInstance {
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string sop_instance_uid;
  std::string sop_class_uid;
  std::string transfer_syntax_uid;
  std::string blob_key;
  std::uint64_t size_bytes = 0;
  std::string sha256;
};

struct IndexStats {
  std::int64_t patients = 0, studies = 0, series = 0, instances = 0;
  std::uint64_t bytes = 0;
};

// Outcome of inserting one record.
enum class InsertOutcome {
  kInserted,         // new instance
  kReplaced,         // existing instance replaced (record.blob_key now current; old key returned)
  kDuplicate,        // same SOP Instance UID already stored, not changed
};

struct InsertResult {
  InsertOutcome outcome = InsertOutcome::kInserted;
  std::string previous_blob_key;   // kReplaced: the blob that is no longer referenced
  std::string previous_sha256;     // kDuplicate / kReplaced: what was stored
};

class InstanceIndex {
 public:
  virtual ~InstanceIndex() = default;

  // Inserts (or, with replace_existing, replaces) all records in ONE transaction.
  // Either all are applied or none (returns an error). A duplicate SOP Instance UID
  // without replace_existing is reported as kDuplicate and the row is left as it was.
  virtual Result<std::vector<InsertResult>> InsertBatch(const std::vector<InstanceRecord>& records,
                                                        bool replace_existing) = 0;

  // The stored instance with this SOP Instance UID.
  virtual Result<std::optional<StoredInstance>> FindInstance(const std::string& sop_instance_uid) = 0;

  // Matching rows at query.level, ordered by the level's natural key
  // (patient_id; study_date, study_time; series_number; instance_number numerically).
  virtual Result<std::vector<QueryRow>> Search(const Query& query) = 0;

  // Instances under a study / series / instance (for C-MOVE, C-GET, WADO-RS),
  // given by the same matching model at any level.
  virtual Result<std::vector<StoredInstance>> ListInstances(const Query& query) = 0;

  // DICOM JSON of the instances of a study, series or single instance (series_uid
  // and sop_uid may be empty), in series and instance order.
  virtual Result<std::vector<std::string>> InstanceJson(const std::string& study_uid, const std::string& series_uid,
                                                        const std::string& sop_uid) = 0;

  virtual Result<IndexStats> Stats() = 0;
};

}  // namespace dx::storage
