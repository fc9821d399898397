#include "storage/postgres/postgres_index.hpp"

#include <array>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/postgres/search_sql.hpp"

namespace dx::storage {

using postgres::Connection;
using postgres::Pool;
using postgres::Rows;

namespace {

StoredInstance PgStoredInstanceFrom(const Rows& rows, int row) {
  return StoredInstance{rows.Text(row, 0), rows.Text(row, 1), rows.Text(row, 2),
                        rows.Text(row, 3), rows.Text(row, 4), rows.Text(row, 5),
                        static_cast<std::uint64_t>(rows.Int(row, 6)), rows.Text(row, 7)};
}

// A set of primary keys as a bigint[] literal, bound as one parameter.
std::string PgKeyArray(const std::set<std::int64_t>& keys) {
  std::string text = "{";
  for (std::int64_t key : keys) text += (text.size() > 1 ? "," : "") + std::to_string(key);
  return text + "}";
}

// A text[] (or bigint[]) literal of `values`, bound as one parameter: each
// element double-quoted, with '"' and '\' escaped (PostgreSQL manual §8.15.6).
std::string PgArray(const std::vector<std::string>& values) {
  std::size_t size = 2;
  for (const auto& value : values) size += value.size() + 3;
  std::string text;
  text.reserve(size);
  text += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) text += ',';
    text += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') text += '\\';
      text += c;
    }
    text += '"';
  }
  text += '}';
  return text;
}

// Rows to write in one statement, column by column: each column becomes one
// array parameter that the statement unnests.
class PgColumnsOf {
 public:
  explicit PgColumnsOf(std::size_t columns) : columns_(columns) {}
  void Add(std::vector<std::string> row) {
    for (std::size_t i = 0; i < columns_.size(); ++i) columns_[i].push_back(std::move(row[i]));
  }
  bool empty() const { return columns_.front().empty(); }
  std::vector<std::string> Params() const {
    std::vector<std::string> params;
    for (const auto& column : columns_) params.push_back(PgArray(column));
    return params;
  }

 private:
  std::vector<std::vector<std::string>> columns_;
};

// One row per key in order of first appearance; later records' non-empty
// values replace earlier ones, as a sequence of single-row upserts would.
template <typename Key>
class PgMerged {
 public:
  // Adds a row for `key` with `values`, or merges them into the row already there.
  void Merge(const Key& key, const std::vector<std::string>& values, std::size_t first_record) {
    auto [it, added] = index_.emplace(key, rows_.size());
    if (added) {
      rows_.push_back(Row{key, values, first_record});
      return;
    }
    auto& merged = rows_[it->second].values;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i].empty()) merged[i] = values[i];
    }
  }
  struct Row {
    Key key;
    std::vector<std::string> values;
    std::size_t first_record;  // the record that creates the row when it is new
  };
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::map<Key, std::size_t> index_;
  std::vector<Row> rows_;
};

}  // namespace

struct PostgresIndex::Impl {
  std::unique_ptr<Pool> pool;

  // Rows whose counts an InsertBatch must recompute before it commits.
  struct Touched {
    std::set<std::int64_t> series, studies, patients;
  };

  Result<std::vector<InsertResult>> WriteBatch(Connection& c, const std::vector<InstanceRecord>& records,
                                               bool replace_existing);
  Result<void> RefreshCounts(Connection& c, const Touched& touched);
};

Result<std::unique_ptr<PostgresIndex>> PostgresIndex::Open(const std::string& conninfo, bool durable,
                                                           const PostgresOptions& options) {
  auto impl = std::make_unique<Impl>();
  DX_TRY(pool, Pool::Open(conninfo, options.schema, durable, options.connections));
  impl->pool = std::move(*pool);
  {
    DX_TRY(lease, impl->pool->Acquire());
    if (auto migrated = postgres::ApplyMigrations(**lease, options.schema); !migrated) {
      return tl::unexpected(migrated.error());
    }
  }
  return std::unique_ptr<PostgresIndex>(new PostgresIndex(std::move(impl)));
}

PostgresIndex::PostgresIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresIndex::~PostgresIndex() = default;

// The batch in a constant number of statements whatever its size, with the
// outcome a sequence of single-record inserts would have (instance_index.hpp):
// the stored instances it names are looked up (and locked) at once; duplicates
// and replacements, also within the batch, are resolved in memory; then each
// level is upserted by one statement, and the instances inserted by one more.
Result<std::vector<InsertResult>> PostgresIndex::Impl::WriteBatch(Connection& c,
                                                                  const std::vector<InstanceRecord>& records,
                                                                  bool replace_existing) {
  const std::size_t n = records.size();
  std::vector<InsertResult> results(n);
  // What each SOP Instance UID currently holds: a stored row, or a record of this batch.
  struct Current {
    std::string blob_key, sha256;
    std::optional<std::size_t> record;
  };
  std::map<std::string, Current> current;
  std::map<std::string, std::array<std::int64_t, 4>> stored;  // pk, series, study, patient
  {
    std::vector<std::string> uids;
    uids.reserve(n);
    for (const auto& r : records) uids.push_back(r.sop_instance_uid);
    // FOR UPDATE: a concurrent replace of the same instance waits for this one.
    DX_TRY(rows, c.Prepared("SELECT i.sop_instance_uid, i.blob_key, i.sha256, i.pk, i.series_pk, se.study_pk,"
                            " s.patient_pk FROM instances i JOIN series se ON se.pk = i.series_pk"
                            " JOIN studies s ON s.pk = se.study_pk WHERE i.sop_instance_uid = ANY($1::text[])"
                            " ORDER BY i.pk FOR UPDATE OF i",
                            {PgArray(uids)}));
    for (int row = 0; row < rows->size(); ++row) {
      const std::string uid = rows->Text(row, 0);
      current[uid] = Current{rows->Text(row, 1), rows->Text(row, 2), std::nullopt};
      stored[uid] = {rows->Int(row, 3), rows->Int(row, 4), rows->Int(row, 5), rows->Int(row, 6)};
    }
  }
  Touched touched;
  std::set<std::int64_t> removed;
  std::vector<bool> writes(n, false);   // not a duplicate: its attributes are written
  std::vector<bool> inserts(n, false);  // its instance row is the one left at the end
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = records[i];
    auto it = current.find(r.sop_instance_uid);
    if (it == current.end()) {
      current.emplace(r.sop_instance_uid, Current{r.blob_key, r.sha256, i});
    } else {
      results[i].previous_blob_key = it->second.blob_key;
      results[i].previous_sha256 = it->second.sha256;
      if (!replace_existing) {
        results[i].outcome = InsertOutcome::kDuplicate;
        continue;
      }
      results[i].outcome = InsertOutcome::kReplaced;
      if (it->second.record) {
        inserts[*it->second.record] = false;
      } else {
        // The replacement may name another series, study or patient: the old
        // ones are recounted, and removed if this was all they held.
        const auto& old = stored.at(r.sop_instance_uid);
        removed.insert(old[0]);
        touched.series.insert(old[1]);
        touched.studies.insert(old[2]);
        touched.patients.insert(old[3]);
      }
      it->second = Current{r.blob_key, r.sha256, i};
    }
    writes[i] = inserts[i] = true;
  }
  if (!removed.empty()) {
    DX_TRY(deleted, c.Prepared("DELETE FROM instances WHERE pk = ANY($1::bigint[])", {PgKeyArray(removed)}));
  }

  // Upserts keep stored attributes unless the new record has a non-empty
  // value, so a later instance can complete what an earlier one lacked.
  using PatientKey = std::pair<std::string, std::string>;
  PgMerged<PatientKey> patients;
  PgMerged<std::string> studies, series;
  for (std::size_t i = 0; i < n; ++i) {
    if (!writes[i]) continue;
    const auto& r = records[i];
    patients.Merge({r.patient_id, r.issuer_of_patient_id},
                   {r.patient_name, r.patient_birth_date, r.patient_sex, r.nhs_number}, i);
    studies.Merge(r.study_instance_uid,
                  {r.study_date, r.study_time, r.accession_number, r.study_id, r.study_description,
                   r.referring_physician_name},
                  i);
    series.Merge(r.series_instance_uid, {r.modality, r.series_number, r.series_description, r.body_part_examined},
                 i);
  }
  std::map<PatientKey, std::int64_t> patient_pks;
  std::map<std::string, std::int64_t> study_pks, series_pks;
  if (!patients.rows().empty()) {
    PgColumnsOf columns(6);
    for (const auto& row : patients.rows()) {
      const auto& v = row.values;
      columns.Add({row.key.first, row.key.second, v[0], v[1], v[2], v[3]});
    }
    DX_TRY(rows,
           c.Prepared("INSERT INTO patients AS t (patient_id, issuer_of_patient_id, patient_name, patient_birth_date,"
                      " patient_sex, nhs_number)"
                      " SELECT a, b, c, d, e, f FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
                      " $5::text[], $6::text[]) WITH ORDINALITY AS u (a, b, c, d, e, f, o) ORDER BY o"
                      " ON CONFLICT (patient_id, issuer_of_patient_id) DO UPDATE SET"
                      " patient_name = COALESCE(NULLIF(EXCLUDED.patient_name, ''), t.patient_name),"
                      " patient_birth_date = COALESCE(NULLIF(EXCLUDED.patient_birth_date, ''), t.patient_birth_date),"
                      " patient_sex = COALESCE(NULLIF(EXCLUDED.patient_sex, ''), t.patient_sex),"
                      " nhs_number = COALESCE(NULLIF(EXCLUDED.nhs_number, ''), t.nhs_number)"
                      " RETURNING pk, patient_id, issuer_of_patient_id",
                      columns.Params()));
    for (int row = 0; row < rows->size(); ++row) {
      patient_pks[{rows->Text(row, 1), rows->Text(row, 2)}] = rows->Int(row, 0);
    }
  }
  if (!studies.rows().empty()) {
    PgColumnsOf columns(8);
    for (const auto& row : studies.rows()) {
      const auto& r = records[row.first_record];
      const auto& v = row.values;
      columns.Add({std::to_string(patient_pks.at({r.patient_id, r.issuer_of_patient_id})), row.key, v[0], v[1], v[2],
                   v[3], v[4], v[5]});
    }
    DX_TRY(rows,
           c.Prepared("INSERT INTO studies AS t (patient_pk, study_instance_uid, study_date, study_time,"
                      " accession_number, study_id, study_description, referring_physician_name)"
                      " SELECT a, b, c, d, e, f, g, h FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],"
                      " $5::text[], $6::text[], $7::text[], $8::text[])"
                      " WITH ORDINALITY AS u (a, b, c, d, e, f, g, h, o) ORDER BY o"
                      " ON CONFLICT (study_instance_uid) DO UPDATE SET"
                      " study_date = COALESCE(NULLIF(EXCLUDED.study_date, ''), t.study_date),"
                      " study_time = COALESCE(NULLIF(EXCLUDED.study_time, ''), t.study_time),"
                      " accession_number = COALESCE(NULLIF(EXCLUDED.accession_number, ''), t.accession_number),"
                      " study_id = COALESCE(NULLIF(EXCLUDED.study_id, ''), t.study_id),"
                      " study_description = COALESCE(NULLIF(EXCLUDED.study_description, ''), t.study_description),"
                      " referring_physician_name = COALESCE(NULLIF(EXCLUDED.referring_physician_name, ''),"
                      " t.referring_physician_name)"
                      " RETURNING pk, study_instance_uid",
                      columns.Params()));
    for (int row = 0; row < rows->size(); ++row) study_pks[rows->Text(row, 1)] = rows->Int(row, 0);
  }
  if (!series.rows().empty()) {
    PgColumnsOf columns(6);
    for (const auto& row : series.rows()) {
      const auto& v = row.values;
      columns.Add({std::to_string(study_pks.at(records[row.first_record].study_instance_uid)), row.key, v[0], v[1],
                   v[2], v[3]});
    }
    DX_TRY(rows,
           c.Prepared("INSERT INTO series AS t (study_pk, series_instance_uid, modality, series_number,"
                      " series_description, body_part_examined)"
                      " SELECT a, b, c, d, e, f FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],"
                      " $5::text[], $6::text[]) WITH ORDINALITY AS u (a, b, c, d, e, f, o) ORDER BY o"
                      " ON CONFLICT (series_instance_uid) DO UPDATE SET"
                      " modality = COALESCE(NULLIF(EXCLUDED.modality, ''), t.modality),"
                      " series_number = COALESCE(NULLIF(EXCLUDED.series_number, ''), t.series_number),"
                      " series_description = COALESCE(NULLIF(EXCLUDED.series_description, ''), t.series_description),"
                      " body_part_examined = COALESCE(NULLIF(EXCLUDED.body_part_examined, ''), t.body_part_examined)"
                      " RETURNING pk, series_instance_uid",
                      columns.Params()));
    for (int row = 0; row < rows->size(); ++row) series_pks[rows->Text(row, 1)] = rows->Int(row, 0);
  }
  PgColumnsOf instances(14);
  for (std::size_t i = 0; i < n; ++i) {
    if (!writes[i]) continue;
    const auto& r = records[i];
    touched.series.insert(series_pks.at(r.series_instance_uid));
    touched.studies.insert(study_pks.at(r.study_instance_uid));
    if (!inserts[i]) {
      // Replaced later in this batch, perhaps by an instance of another patient.
      touched.patients.insert(patient_pks.at({r.patient_id, r.issuer_of_patient_id}));
      continue;
    }
    instances.Add({std::to_string(series_pks.at(r.series_instance_uid)), r.sop_instance_uid, r.sop_class_uid,
                   r.instance_number, r.transfer_syntax_uid, std::to_string(r.number_of_frames),
                   std::to_string(r.rows), std::to_string(r.columns), r.blob_key, std::to_string(r.size_bytes),
                   r.sha256, r.dicom_json, r.received_at, r.calling_ae});
  }
  if (!instances.empty()) {
    DX_TRY(inserted,
           c.Prepared("INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number,"
                      " transfer_syntax_uid, number_of_frames, rows, columns, blob_key, size_bytes, sha256, dicom_json,"
                      " received_at, calling_ae)"
                      " SELECT a, b, c, d, e, f, g, h, i, j, k, l, m, n FROM unnest($1::bigint[], $2::text[],"
                      " $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[],"
                      " $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[])"
                      " WITH ORDINALITY AS u (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o) ORDER BY o",
                      instances.Params()));
  }
  DX_TRY(refreshed, RefreshCounts(c, touched));
  return results;
}

Result<void> PostgresIndex::Impl::RefreshCounts(Connection& c, const Touched& touched) {
  // Each level is locked (in key order) by one statement before the next one
  // counts: under READ COMMITTED that count's snapshot is taken after every
  // concurrent writer of these rows has committed, so the totals are exact.
  if (!touched.series.empty()) {
    const std::string keys = PgKeyArray(touched.series);
    DX_TRY(locked, c.Prepared("SELECT pk FROM series WHERE pk = ANY($1::bigint[]) ORDER BY pk FOR UPDATE", {keys}));
    DX_TRY(updated, c.Prepared("UPDATE series se SET number_of_instances ="
                               " (SELECT COUNT(*) FROM instances i WHERE i.series_pk = se.pk)"
                               " WHERE se.pk = ANY($1::bigint[])",
                               {keys}));
    DX_TRY(removed,
           c.Prepared("DELETE FROM series WHERE pk = ANY($1::bigint[]) AND number_of_instances = 0", {keys}));
  }
  if (!touched.studies.empty()) {
    const std::string keys = PgKeyArray(touched.studies);
    DX_TRY(locked,
           c.Prepared("SELECT pk FROM studies WHERE pk = ANY($1::bigint[]) ORDER BY pk FOR UPDATE", {keys}));
    DX_TRY(updated,
           c.Prepared("UPDATE studies s SET"
                      " number_of_series = (SELECT COUNT(*) FROM series se WHERE se.study_pk = s.pk),"
                      " number_of_instances = (SELECT COALESCE(SUM(se.number_of_instances), 0) FROM series se"
                      " WHERE se.study_pk = s.pk),"
                      " modalities_in_study = (SELECT COALESCE(string_agg(DISTINCT se.modality, '\\'"
                      " ORDER BY se.modality), '') FROM series se WHERE se.study_pk = s.pk AND se.modality <> '')"
                      " WHERE s.pk = ANY($1::bigint[])",
                      {keys}));
    DX_TRY(removed,
           c.Prepared("DELETE FROM studies WHERE pk = ANY($1::bigint[]) AND number_of_series = 0", {keys}));
  }
  if (!touched.patients.empty()) {
    const std::string keys = PgKeyArray(touched.patients);
    DX_TRY(locked,
           c.Prepared("SELECT pk FROM patients WHERE pk = ANY($1::bigint[]) ORDER BY pk FOR UPDATE", {keys}));
    DX_TRY(removed, c.Prepared("DELETE FROM patients p WHERE p.pk = ANY($1::bigint[])"
                               " AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_pk = p.pk)",
                               {keys}));
  }
  return {};
}


Result<std::vector<InsertResult>> PostgresIndex::InsertBatch(const std::vector<InstanceRecord>& records,
                                                             bool replace_existing) {
  // The three UIDs are the index's keys: a record without one is refused, and
  // with it the whole batch, before anything is written.
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    for (auto [name, value] : {std::pair{"study_instance_uid", &r.study_instance_uid},
                               {"series_instance_uid", &r.series_instance_uid},
                               {"sop_instance_uid", &r.sop_instance_uid}}) {
      if (value->empty()) {
        return Fail(ErrorCode::kInvalidInput,
                    fmt::format("record {} of {} in the batch has no {}", i + 1, records.size(), name));
      }
    }
  }
  if (records.empty()) return std::vector<InsertResult>{};
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  // A unique violation means another node stored one of these instances after
  // this transaction looked: running it again finds it and reports a duplicate.
  return postgres::InTransaction(
      c, [&] { return impl_->WriteBatch(c, records, replace_existing); }, /*retry_unique_violation=*/true);
}

Result<std::optional<StoredInstance>> PostgresIndex::FindInstance(const std::string& sop_instance_uid) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(std::string(postgres::kStoredInstanceColumns) +
                                      " FROM instances i JOIN series se ON se.pk = i.series_pk"
                                      " JOIN studies s ON s.pk = se.study_pk WHERE i.sop_instance_uid = $1",
                                  {sop_instance_uid}));
  if (rows->empty()) return std::optional<StoredInstance>{};
  return std::optional<StoredInstance>(PgStoredInstanceFrom(*rows, 0));
}

Result<std::vector<QueryRow>> PostgresIndex::Search(const Query& query) {
  DX_TRY(search, postgres::BuildSearch(query));
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(result, (*lease)->Query(search->sql, search->values));
  const Rows& s = *result;
  std::vector<QueryRow> rows;
  rows.reserve(static_cast<std::size_t>(s.size()));
  for (int r = 0; r < s.size(); ++r) {
    QueryRow row;
    auto& a = row.attributes;
    int col = 0;
    a.patient_id = s.Text(r, col++);
    a.issuer_of_patient_id = s.Text(r, col++);
    a.patient_name = s.Text(r, col++);
    a.patient_birth_date = s.Text(r, col++);
    a.patient_sex = s.Text(r, col++);
    a.nhs_number = s.Text(r, col++);
    if (query.level == QueryLevel::kPatient) {
      row.patient_related_studies = s.Int(r, col++);
      row.patient_related_series = s.Int(r, col++);
      row.patient_related_instances = s.Int(r, col++);
    }
    if (query.level >= QueryLevel::kStudy) {
      a.study_instance_uid = s.Text(r, col++);
      a.study_date = s.Text(r, col++);
      a.study_time = s.Text(r, col++);
      a.accession_number = s.Text(r, col++);
      a.study_id = s.Text(r, col++);
      a.study_description = s.Text(r, col++);
      a.referring_physician_name = s.Text(r, col++);
      row.modalities_in_study = s.Text(r, col++);
      row.study_related_series = s.Int(r, col++);
      row.study_related_instances = s.Int(r, col++);
    }
    if (query.level >= QueryLevel::kSeries) {
      a.series_instance_uid = s.Text(r, col++);
      a.modality = s.Text(r, col++);
      a.series_number = s.Text(r, col++);
      a.series_description = s.Text(r, col++);
      a.body_part_examined = s.Text(r, col++);
      row.series_related_instances = s.Int(r, col++);
    }
    if (query.level >= QueryLevel::kInstance) {
      a.sop_instance_uid = s.Text(r, col++);
      a.sop_class_uid = s.Text(r, col++);
      a.instance_number = s.Text(r, col++);
      a.transfer_syntax_uid = s.Text(r, col++);
      a.number_of_frames = s.Int(r, col++);
      a.rows = s.Int(r, col++);
      a.columns = s.Int(r, col++);
      a.blob_key = s.Text(r, col++);
      a.size_bytes = static_cast<std::uint64_t>(s.Int(r, col++));
      a.sha256 = s.Text(r, col++);
      a.received_at = s.Text(r, col++);
      a.calling_ae = s.Text(r, col++);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> PostgresIndex::ExplainSearch(const Query& query) {
  DX_TRY(search, postgres::BuildSearch(query));
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Query("EXPLAIN " + search->sql, search->values));
  std::string plan;
  for (int r = 0; r < rows->size(); ++r) plan += rows->Text(r, 0) + "\n";
  return plan;
}

Result<std::vector<StoredInstance>> PostgresIndex::ListInstances(const Query& query) {
  DX_TRY(list, postgres::BuildInstanceList(query));
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Query(list->sql, list->values));
  std::vector<StoredInstance> instances;
  instances.reserve(static_cast<std::size_t>(rows->size()));
  for (int r = 0; r < rows->size(); ++r) instances.push_back(PgStoredInstanceFrom(*rows, r));
  return instances;
}

Result<std::vector<std::string>> PostgresIndex::InstanceJson(const std::string& study_uid,
                                                             const std::string& series_uid,
                                                             const std::string& sop_uid) {
  std::string sql =
      "SELECT i.dicom_json FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk"
      " WHERE s.study_instance_uid = $1";
  std::vector<std::string> params{study_uid};
  if (!series_uid.empty()) {
    params.push_back(series_uid);
    sql += " AND se.series_instance_uid = $" + std::to_string(params.size());
  }
  if (!sop_uid.empty()) {
    params.push_back(sop_uid);
    sql += " AND i.sop_instance_uid = $" + std::to_string(params.size());
  }
  sql += " ORDER BY " + postgres::LeadingInteger("se.series_number") + ", se.pk, " +
         postgres::LeadingInteger("i.instance_number") + ", i.pk";
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(sql, params));
  std::vector<std::string> json;
  json.reserve(static_cast<std::size_t>(rows->size()));
  for (int r = 0; r < rows->size(); ++r) json.push_back(rows->Text(r, 0));
  return json;
}

Result<IndexStats> PostgresIndex::Stats() {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies),"
                                  " (SELECT COUNT(*) FROM series), (SELECT COUNT(*) FROM instances),"
                                  " (SELECT COALESCE(SUM(size_bytes), 0) FROM instances)",
                                  {}));
  return IndexStats{rows->Int(0, 0), rows->Int(0, 1), rows->Int(0, 2), rows->Int(0, 3),
                    static_cast<std::uint64_t>(rows->Int(0, 4))};
}

}  // namespace dx::storage
