#include "storage/sqlite/sqlite_index.hpp"

#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

namespace dx::storage {

using sqlite::Connection;
using sqlite::Statement;

namespace {

// Query columns by name (the whitelist of instance_index.hpp): SQL expression and level.
struct Column {
  const char* name;
  const char* sql;
  QueryLevel level;
};

constexpr Column kColumns[] = {
    {"patient_id", "p.patient_id", QueryLevel::kPatient},
    {"issuer_of_patient_id", "p.issuer_of_patient_id", QueryLevel::kPatient},
    {"patient_name", "p.patient_name", QueryLevel::kPatient},
    {"patient_birth_date", "p.patient_birth_date", QueryLevel::kPatient},
    {"patient_sex", "p.patient_sex", QueryLevel::kPatient},
    {"nhs_number", "p.nhs_number", QueryLevel::kPatient},
    {"study_instance_uid", "s.study_instance_uid", QueryLevel::kStudy},
    {"study_date", "s.study_date", QueryLevel::kStudy},
    {"study_time", "s.study_time", QueryLevel::kStudy},
    {"accession_number", "s.accession_number", QueryLevel::kStudy},
    {"study_id", "s.study_id", QueryLevel::kStudy},
    {"study_description", "s.study_description", QueryLevel::kStudy},
    {"referring_physician_name", "s.referring_physician_name", QueryLevel::kStudy},
    {"modalities_in_study", nullptr, QueryLevel::kStudy},
    {"series_instance_uid", "se.series_instance_uid", QueryLevel::kSeries},
    {"modality", "se.modality", QueryLevel::kSeries},
    {"series_number", "se.series_number", QueryLevel::kSeries},
    {"series_description", "se.series_description", QueryLevel::kSeries},
    {"body_part_examined", "se.body_part_examined", QueryLevel::kSeries},
    {"sop_instance_uid", "i.sop_instance_uid", QueryLevel::kInstance},
    {"sop_class_uid", "i.sop_class_uid", QueryLevel::kInstance},
    {"instance_number", "i.instance_number", QueryLevel::kInstance},
};

const Column* FindColumn(const std::string& name) {
  for (const auto& column : kColumns) {
    if (name == column.name) return &column;
  }
  return nullptr;
}

const char* FromClause(QueryLevel level) {
  switch (level) {
    case QueryLevel::kPatient: return " FROM patients p";
    case QueryLevel::kStudy: return " FROM studies s JOIN patients p ON p.pk = s.patient_pk";
    case QueryLevel::kSeries:
      return " FROM series se JOIN studies s ON s.pk = se.study_pk JOIN patients p ON p.pk = s.patient_pk";
    case QueryLevel::kInstance:
      return " FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk"
             " JOIN patients p ON p.pk = s.patient_pk";
  }
  return "";
}

// DICOM wildcards (PS3.4 C.2.2.2.4) as a GLOB pattern: '*' and '?' keep their
// meaning; '[' is the one other GLOB metacharacter and is escaped.
std::string GlobPattern(const std::string& value) {
  std::string pattern;
  for (char c : value) {
    if (c == '[') {
      pattern += "[[]";
    } else {
      pattern.push_back(c);
    }
  }
  return pattern;
}

// The literal prefix of a wildcard value and the smallest string above every
// string with that prefix, so a prefix match can use the column's index.
std::optional<std::pair<std::string, std::string>> PrefixRange(const std::string& value) {
  const auto wildcard = value.find_first_of("*?");
  std::string prefix = value.substr(0, wildcard);
  if (prefix.empty() || static_cast<unsigned char>(prefix.back()) == 0xFF) return std::nullopt;
  std::string upper = prefix;
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return std::pair{prefix, upper};
}

struct Where {
  std::string sql;
  std::vector<std::string> values;
};

Result<Where> BuildWhere(const Query& query, QueryLevel from_level) {
  Where where;
  for (const auto& match : query.matches) {
    const Column* column = FindColumn(match.column);
    if (!column) return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a query key of the index", match.column));
    if (column->level > from_level) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("'{}' is below the level of the query and cannot be matched", match.column));
    }
    if (match.values.empty()) return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' has no value", match.column));
    std::string clause;
    if (!column->sql) {  // modalities_in_study: any series of the study has one of the values
      clause = "EXISTS (SELECT 1 FROM series ms WHERE ms.study_pk = s.pk AND ms.modality IN (";
      for (std::size_t i = 0; i < match.values.size(); ++i) {
        clause += i ? ", ?" : "?";
        where.values.push_back(match.values[i]);
      }
      clause += "))";
    } else {
      const std::string sql = column->sql;
      switch (match.kind) {
        case Match::Kind::kSingleValue:
          clause = sql + " = ?";
          where.values.push_back(match.values[0]);
          break;
        case Match::Kind::kWildcard: {
          const std::string& value = match.values[0];
          if (value.find_first_not_of('*') == std::string::npos) continue;  // universal
          clause = sql + " GLOB ?";
          where.values.push_back(GlobPattern(value));
          if (auto range = PrefixRange(value)) {
            clause += " AND " + sql + " >= ? AND " + sql + " < ?";
            where.values.push_back(range->first);
            where.values.push_back(range->second);
          }
          break;
        }
        case Match::Kind::kRange: {
          if (match.values.size() != 2) {
            return Fail(ErrorCode::kInvalidInput, fmt::format("range on '{}' needs two bounds", match.column));
          }
          std::vector<std::string> parts;
          if (!match.values[0].empty()) {
            parts.push_back(sql + " >= ?");
            where.values.push_back(match.values[0]);
          }
          if (!match.values[1].empty()) {
            // An upper bound includes everything that starts with it (a time of
            // "1200" includes "120000.5"; a date range end includes that day).
            parts.push_back("(" + sql + " <= ? OR " + sql + " GLOB ?)");
            where.values.push_back(match.values[1]);
            where.values.push_back(GlobPattern(match.values[1]) + "*");
          }
          if (parts.empty()) continue;
          clause = sql + " <> ''";
          for (const auto& part : parts) clause += " AND " + part;
          break;
        }
        case Match::Kind::kList:
          clause = sql + " IN (";
          for (std::size_t i = 0; i < match.values.size(); ++i) {
            clause += i ? ", ?" : "?";
            where.values.push_back(match.values[i]);
          }
          clause += ")";
          break;
      }
    }
    where.sql += (where.sql.empty() ? " WHERE " : " AND ") + clause;
  }
  return where;
}

const char* OrderClause(QueryLevel level) {
  switch (level) {
    case QueryLevel::kPatient: return " ORDER BY p.patient_id, p.pk";
    case QueryLevel::kStudy: return " ORDER BY s.study_date, s.study_time, s.pk";
    case QueryLevel::kSeries: return " ORDER BY s.pk, CAST(se.series_number AS INTEGER), se.pk";
    case QueryLevel::kInstance:
      return " ORDER BY s.pk, CAST(se.series_number AS INTEGER), se.pk, CAST(i.instance_number AS INTEGER), i.pk";
  }
  return "";
}

constexpr char kPatientColumns[] =
    "p.patient_id, p.issuer_of_patient_id, p.patient_name, p.patient_birth_date, p.patient_sex, p.nhs_number";
constexpr char kStudyColumns[] =
    ", s.study_instance_uid, s.study_date, s.study_time, s.accession_number, s.study_id, s.study_description,"
    " s.referring_physician_name, s.modalities_in_study, s.number_of_series, s.number_of_instances";
constexpr char kSeriesColumns[] =
    ", se.series_instance_uid, se.modality, se.series_number, se.series_description, se.body_part_examined,"
    " se.number_of_instances";
constexpr char kInstanceColumns[] =
    ", i.sop_instance_uid, i.sop_class_uid, i.instance_number, i.transfer_syntax_uid, i.number_of_frames, i.rows,"
    " i.columns, i.blob_key, i.size_bytes, i.sha256";
constexpr char kPatientCounts[] =
    ", (SELECT COUNT(*) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_series), 0) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_instances), 0) FROM studies ps WHERE ps.patient_pk = p.pk)";

void BindAll(Statement& statement, const std::vector<std::string>& values, int first = 1) {
  for (std::size_t i = 0; i < values.size(); ++i) statement.Bind(first + static_cast<int>(i), values[i]);
}

}  // namespace

struct SqliteIndex::Impl {
  std::string path;
  bool durable = false;
  std::mutex write_mutex;
  std::unique_ptr<Connection> writer;
  std::mutex pool_mutex;
  std::condition_variable pool_ready;
  std::vector<std::unique_ptr<Connection>> readers;

  // A read connection for the duration of one call.
  class Reader {
   public:
    explicit Reader(Impl& impl) : impl_(impl) {
      std::unique_lock lock(impl_.pool_mutex);
      impl_.pool_ready.wait(lock, [&] { return !impl_.readers.empty(); });
      connection_ = std::move(impl_.readers.back());
      impl_.readers.pop_back();
    }
    ~Reader() {
      std::lock_guard lock(impl_.pool_mutex);
      impl_.readers.push_back(std::move(connection_));
      impl_.pool_ready.notify_one();
    }
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> connection_;
  };

  Result<void> Migrate();
  Result<InsertResult> InsertOne(const InstanceRecord& r, bool replace_existing, std::set<std::int64_t>& series_touched,
                                 std::set<std::int64_t>& studies_touched);
  Result<void> RefreshCounts(const std::set<std::int64_t>& series, const std::set<std::int64_t>& studies);
};

Result<void> SqliteIndex::Impl::Migrate() {
  Connection& c = *writer;
  if (auto ok = c.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                          "NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
      !ok) {
    return ok;
  }
  for (const auto& migration : sqlite::Migrations()) {
    auto check = c.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!check) return tl::unexpected(check.error());
    Statement exists(*check);
    exists.Bind(1, static_cast<std::int64_t>(migration.version));
    auto found = exists.Step();
    if (!found) return tl::unexpected(found.error());
    if (*found) continue;
    if (auto ok = c.Execute("BEGIN IMMEDIATE"); !ok) return ok;
    auto applied = c.Execute(migration.sql);
    if (applied) {
      applied = c.Execute(fmt::format("INSERT INTO schema_migrations (version, name) VALUES ({}, '{}')",
                                      migration.version, migration.name));
    }
    if (!applied) {
      c.Execute("ROLLBACK");
      return Fail(ErrorCode::kStorage,
                  fmt::format("migration {} ({}) failed: {}", migration.version, migration.name, applied.error().message));
    }
    if (auto ok = c.Execute("COMMIT"); !ok) return ok;
  }
  return {};
}

Result<std::unique_ptr<SqliteIndex>> SqliteIndex::Open(const std::string& path, bool durable, int readers) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->durable = durable;
  auto writer = Connection::Open(path, durable);
  if (!writer) return tl::unexpected(writer.error());
  impl->writer = std::move(*writer);
  if (auto migrated = impl->Migrate(); !migrated) return tl::unexpected(migrated.error());
  for (int i = 0; i < std::max(1, readers); ++i) {
    auto reader = Connection::Open(path, durable);
    if (!reader) return tl::unexpected(reader.error());
    if (auto ok = (*reader)->Execute("PRAGMA query_only=ON"); !ok) return tl::unexpected(ok.error());
    impl->readers.push_back(std::move(*reader));
  }
  return std::unique_ptr<SqliteIndex>(new SqliteIndex(std::move(impl)));
}

SqliteIndex::SqliteIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteIndex::~SqliteIndex() = default;

#define DX_TRY(var, expr)                                      \
  auto var = (expr);                                           \
  if (!var) return tl::unexpected(var.error())

Result<InsertResult> SqliteIndex::Impl::InsertOne(const InstanceRecord& r, bool replace_existing,
                                                  std::set<std::int64_t>& series_touched,
                                                  std::set<std::int64_t>& studies_touched) {
  Connection& c = *writer;
  InsertResult result;
  {
    DX_TRY(prepared, c.Prepare("SELECT i.pk, i.blob_key, i.sha256, i.series_pk, se.study_pk FROM instances i"
                               " JOIN series se ON se.pk = i.series_pk WHERE i.sop_instance_uid = ?"));
    Statement existing(*prepared);
    existing.Bind(1, r.sop_instance_uid);
    DX_TRY(found, existing.Step());
    if (*found) {
      result.previous_blob_key = existing.Text(1);
      result.previous_sha256 = existing.Text(2);
      if (!replace_existing) {
        result.outcome = InsertOutcome::kDuplicate;
        return result;
      }
      series_touched.insert(existing.Int(3));
      studies_touched.insert(existing.Int(4));
      DX_TRY(remove, c.Prepare("DELETE FROM instances WHERE pk = ?"));
      Statement del(*remove);
      del.Bind(1, existing.Int(0));
      DX_TRY(done, del.Step());
      result.outcome = InsertOutcome::kReplaced;
    }
  }
  // Upserts keep the first non-empty value of each attribute and take newer
  // non-empty values, so a later instance can complete what an earlier lacked.
  DX_TRY(patient_sql,
         c.Prepare("INSERT INTO patients (patient_id, issuer_of_patient_id, patient_name, patient_birth_date,"
                   " patient_sex, nhs_number) VALUES (?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (patient_id, issuer_of_patient_id) DO UPDATE SET"
                   " patient_name = COALESCE(NULLIF(excluded.patient_name, ''), patient_name),"
                   " patient_birth_date = COALESCE(NULLIF(excluded.patient_birth_date, ''), patient_birth_date),"
                   " patient_sex = COALESCE(NULLIF(excluded.patient_sex, ''), patient_sex),"
                   " nhs_number = COALESCE(NULLIF(excluded.nhs_number, ''), nhs_number)"
                   " RETURNING pk"));
  Statement patient(*patient_sql);
  patient.Bind(1, r.patient_id).Bind(2, r.issuer_of_patient_id).Bind(3, r.patient_name);
  patient.Bind(4, r.patient_birth_date).Bind(5, r.patient_sex).Bind(6, r.nhs_number);
  DX_TRY(patient_row, patient.Step());
  const std::int64_t patient_pk = patient.Int(0);

  DX_TRY(study_sql,
         c.Prepare("INSERT INTO studies (patient_pk, study_instance_uid, study_date, study_time, accession_number,"
                   " study_id, study_description, referring_physician_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (study_instance_uid) DO UPDATE SET"
                   " study_date = COALESCE(NULLIF(excluded.study_date, ''), study_date),"
                   " study_time = COALESCE(NULLIF(excluded.study_time, ''), study_time),"
                   " accession_number = COALESCE(NULLIF(excluded.accession_number, ''), accession_number),"
                   " study_id = COALESCE(NULLIF(excluded.study_id, ''), study_id),"
                   " study_description = COALESCE(NULLIF(excluded.study_description, ''), study_description),"
                   " referring_physician_name = COALESCE(NULLIF(excluded.referring_physician_name, ''),"
                   " referring_physician_name)"
                   " RETURNING pk"));
  Statement study(*study_sql);
  study.Bind(1, patient_pk).Bind(2, r.study_instance_uid).Bind(3, r.study_date).Bind(4, r.study_time);
  study.Bind(5, r.accession_number).Bind(6, r.study_id).Bind(7, r.study_description);
  study.Bind(8, r.referring_physician_name);
  DX_TRY(study_row, study.Step());
  const std::int64_t study_pk = study.Int(0);

  DX_TRY(series_sql,
         c.Prepare("INSERT INTO series (study_pk, series_instance_uid, modality, series_number, series_description,"
                   " body_part_examined) VALUES (?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (series_instance_uid) DO UPDATE SET"
                   " modality = COALESCE(NULLIF(excluded.modality, ''), modality),"
                   " series_number = COALESCE(NULLIF(excluded.series_number, ''), series_number),"
                   " series_description = COALESCE(NULLIF(excluded.series_description, ''), series_description),"
                   " body_part_examined = COALESCE(NULLIF(excluded.body_part_examined, ''), body_part_examined)"
                   " RETURNING pk"));
  Statement series(*series_sql);
  series.Bind(1, study_pk).Bind(2, r.series_instance_uid).Bind(3, r.modality).Bind(4, r.series_number);
  series.Bind(5, r.series_description).Bind(6, r.body_part_examined);
  DX_TRY(series_row, series.Step());
  const std::int64_t series_pk = series.Int(0);

  DX_TRY(instance_sql,
         c.Prepare("INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number,"
                   " transfer_syntax_uid, number_of_frames, rows, columns, blob_key, size_bytes, sha256, dicom_json,"
                   " received_at, calling_ae) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  Statement instance(*instance_sql);
  instance.Bind(1, series_pk).Bind(2, r.sop_instance_uid).Bind(3, r.sop_class_uid).Bind(4, r.instance_number);
  instance.Bind(5, r.transfer_syntax_uid).Bind(6, r.number_of_frames).Bind(7, r.rows).Bind(8, r.columns);
  instance.Bind(9, r.blob_key).Bind(10, static_cast<std::int64_t>(r.size_bytes)).Bind(11, r.sha256);
  instance.Bind(12, r.dicom_json).Bind(13, r.received_at).Bind(14, r.calling_ae);
  DX_TRY(inserted, instance.Step());
  series_touched.insert(series_pk);
  studies_touched.insert(study_pk);
  return result;
}

Result<void> SqliteIndex::Impl::RefreshCounts(const std::set<std::int64_t>& series,
                                              const std::set<std::int64_t>& studies) {
  Connection& c = *writer;
  for (std::int64_t pk : series) {
    DX_TRY(sql, c.Prepare("UPDATE series SET number_of_instances ="
                          " (SELECT COUNT(*) FROM instances WHERE series_pk = ?1) WHERE pk = ?1"));
    Statement update(*sql);
    update.Bind(1, pk);
    DX_TRY(done, update.Step());
  }
  for (std::int64_t pk : studies) {
    DX_TRY(sql, c.Prepare("UPDATE studies SET"
                          " number_of_series = (SELECT COUNT(*) FROM series WHERE study_pk = ?1),"
                          " number_of_instances = (SELECT COALESCE(SUM(number_of_instances), 0) FROM series"
                          " WHERE study_pk = ?1),"
                          " modalities_in_study = (SELECT COALESCE(group_concat(modality, '\\'), '') FROM"
                          " (SELECT DISTINCT modality FROM series WHERE study_pk = ?1 AND modality <> ''"
                          " ORDER BY modality))"
                          " WHERE pk = ?1"));
    Statement update(*sql);
    update.Bind(1, pk);
    DX_TRY(done, update.Step());
  }
  return {};
}

Result<std::vector<InsertResult>> SqliteIndex::InsertBatch(const std::vector<InstanceRecord>& records,
                                                           bool replace_existing) {
  std::lock_guard lock(impl_->write_mutex);
  Connection& c = *impl_->writer;
  if (auto ok = c.Execute("BEGIN IMMEDIATE"); !ok) return tl::unexpected(ok.error());
  std::vector<InsertResult> results;
  results.reserve(records.size());
  std::set<std::int64_t> series_touched, studies_touched;
  auto rollback = [&](ErrorInfo error) -> Result<std::vector<InsertResult>> {
    c.Execute("ROLLBACK");
    return tl::unexpected(std::move(error));
  };
  for (const auto& record : records) {
    auto result = impl_->InsertOne(record, replace_existing, series_touched, studies_touched);
    if (!result) return rollback(result.error());
    results.push_back(std::move(*result));
  }
  if (auto ok = impl_->RefreshCounts(series_touched, studies_touched); !ok) return rollback(ok.error());
  if (auto ok = c.Execute("COMMIT"); !ok) return rollback(ok.error());
  return results;
}

Result<std::optional<StoredInstance>> SqliteIndex::FindInstance(const std::string& sop_instance_uid) {
  Impl::Reader reader(*impl_);
  DX_TRY(sql, reader->Prepare("SELECT s.study_instance_uid, se.series_instance_uid, i.sop_instance_uid,"
                              " i.sop_class_uid, i.transfer_syntax_uid, i.blob_key, i.size_bytes, i.sha256"
                              " FROM instances i JOIN series se ON se.pk = i.series_pk"
                              " JOIN studies s ON s.pk = se.study_pk WHERE i.sop_instance_uid = ?"));
  Statement statement(*sql);
  statement.Bind(1, sop_instance_uid);
  DX_TRY(found, statement.Step());
  if (!*found) return std::optional<StoredInstance>{};
  return std::optional<StoredInstance>(StoredInstance{statement.Text(0), statement.Text(1), statement.Text(2),
                                                      statement.Text(3), statement.Text(4), statement.Text(5),
                                                      static_cast<std::uint64_t>(statement.Int(6)),
                                                      statement.Text(7)});
}

Result<std::vector<QueryRow>> SqliteIndex::Search(const Query& query) {
  DX_TRY(where, BuildWhere(query, query.level));
  std::string sql = std::string("SELECT ") + kPatientColumns;
  if (query.level == QueryLevel::kPatient) sql += kPatientCounts;
  if (query.level >= QueryLevel::kStudy) sql += kStudyColumns;
  if (query.level >= QueryLevel::kSeries) sql += kSeriesColumns;
  if (query.level >= QueryLevel::kInstance) sql += kInstanceColumns;
  sql += FromClause(query.level) + where->sql + OrderClause(query.level);
  if (query.limit > 0 || query.offset > 0) {
    sql += fmt::format(" LIMIT {} OFFSET {}", query.limit > 0 ? static_cast<long long>(query.limit) : -1LL,
                       static_cast<long long>(query.offset));
  }
  Impl::Reader reader(*impl_);
  DX_TRY(prepared, reader->Prepare(sql));
  Statement statement(*prepared);
  BindAll(statement, where->values);
  std::vector<QueryRow> rows;
  while (true) {
    DX_TRY(more, statement.Step());
    if (!*more) break;
    QueryRow row;
    auto& a = row.attributes;
    int col = 0;
    a.patient_id = statement.Text(col++);
    a.issuer_of_patient_id = statement.Text(col++);
    a.patient_name = statement.Text(col++);
    a.patient_birth_date = statement.Text(col++);
    a.patient_sex = statement.Text(col++);
    a.nhs_number = statement.Text(col++);
    if (query.level == QueryLevel::kPatient) {
      row.patient_related_studies = statement.Int(col++);
      row.patient_related_series = statement.Int(col++);
      row.patient_related_instances = statement.Int(col++);
    }
    if (query.level >= QueryLevel::kStudy) {
      a.study_instance_uid = statement.Text(col++);
      a.study_date = statement.Text(col++);
      a.study_time = statement.Text(col++);
      a.accession_number = statement.Text(col++);
      a.study_id = statement.Text(col++);
      a.study_description = statement.Text(col++);
      a.referring_physician_name = statement.Text(col++);
      row.modalities_in_study = statement.Text(col++);
      row.study_related_series = statement.Int(col++);
      row.study_related_instances = statement.Int(col++);
    }
    if (query.level >= QueryLevel::kSeries) {
      a.series_instance_uid = statement.Text(col++);
      a.modality = statement.Text(col++);
      a.series_number = statement.Text(col++);
      a.series_description = statement.Text(col++);
      a.body_part_examined = statement.Text(col++);
      row.series_related_instances = statement.Int(col++);
    }
    if (query.level >= QueryLevel::kInstance) {
      a.sop_instance_uid = statement.Text(col++);
      a.sop_class_uid = statement.Text(col++);
      a.instance_number = statement.Text(col++);
      a.transfer_syntax_uid = statement.Text(col++);
      a.number_of_frames = statement.Int(col++);
      a.rows = statement.Int(col++);
      a.columns = statement.Int(col++);
      a.blob_key = statement.Text(col++);
      a.size_bytes = static_cast<std::uint64_t>(statement.Int(col++));
      a.sha256 = statement.Text(col++);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<StoredInstance>> SqliteIndex::ListInstances(const Query& query) {
  DX_TRY(where, BuildWhere(query, QueryLevel::kInstance));
  std::string sql =
      "SELECT s.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sop_class_uid,"
      " i.transfer_syntax_uid, i.blob_key, i.size_bytes, i.sha256";
  sql += FromClause(QueryLevel::kInstance) + where->sql + OrderClause(QueryLevel::kInstance);
  Impl::Reader reader(*impl_);
  DX_TRY(prepared, reader->Prepare(sql));
  Statement statement(*prepared);
  BindAll(statement, where->values);
  std::vector<StoredInstance> instances;
  while (true) {
    DX_TRY(more, statement.Step());
    if (!*more) break;
    instances.push_back(StoredInstance{statement.Text(0), statement.Text(1), statement.Text(2), statement.Text(3),
                                       statement.Text(4), statement.Text(5),
                                       static_cast<std::uint64_t>(statement.Int(6)), statement.Text(7)});
  }
  return instances;
}

Result<std::vector<std::string>> SqliteIndex::InstanceJson(const std::string& study_uid,
                                                           const std::string& series_uid) {
  std::string sql =
      "SELECT i.dicom_json FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk"
      " WHERE s.study_instance_uid = ?";
  if (!series_uid.empty()) sql += " AND se.series_instance_uid = ?";
  sql += " ORDER BY CAST(se.series_number AS INTEGER), se.pk, CAST(i.instance_number AS INTEGER), i.pk";
  Impl::Reader reader(*impl_);
  DX_TRY(prepared, reader->Prepare(sql));
  Statement statement(*prepared);
  statement.Bind(1, study_uid);
  if (!series_uid.empty()) statement.Bind(2, series_uid);
  std::vector<std::string> json;
  while (true) {
    DX_TRY(more, statement.Step());
    if (!*more) break;
    json.push_back(statement.Text(0));
  }
  return json;
}

Result<IndexStats> SqliteIndex::Stats() {
  Impl::Reader reader(*impl_);
  DX_TRY(prepared, reader->Prepare("SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies),"
                                   " (SELECT COUNT(*) FROM series), (SELECT COUNT(*) FROM instances),"
                                   " (SELECT COALESCE(SUM(size_bytes), 0) FROM instances)"));
  Statement statement(*prepared);
  DX_TRY(row, statement.Step());
  return IndexStats{statement.Int(0), statement.Int(1), statement.Int(2), statement.Int(3),
                    static_cast<std::uint64_t>(statement.Int(4))};
}

}  // namespace dx::storage
