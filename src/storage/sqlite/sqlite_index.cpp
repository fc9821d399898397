#include "storage/sqlite/sqlite_index.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "storage/api/index_schema.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

namespace dx::storage {

using sqlite::Connection;
using sqlite::Statement;

namespace {

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

// The smallest string above every string that starts with `prefix` (under
// BINARY collation), so "starts with" becomes a range an index can serve.
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

struct Where {
  std::string sql;
  std::vector<std::string> values;
};

// The predicate of one match on SQL expression `expr`, appending its bound
// values; "" when the match constrains nothing (universal matching).
Result<std::string> Predicate(const std::string& expr, const Match& match, std::vector<std::string>& values) {
  if (match.values.empty()) return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' has no value", match.column));
  switch (match.kind) {
    case Match::Kind::kSingleValue: {
      // A zero-length value matches everything (PS3.4 C.2.2.2.3).
      if (match.values[0].empty()) return std::string();
      values.push_back(match.values[0]);
      return expr + " = ?";
    }
    case Match::Kind::kWildcard: {
      const std::string& value = match.values[0];
      if (value.find_first_not_of('*') == std::string::npos) return std::string();  // "*" or "": universal
      const auto first_wildcard = value.find_first_of("*?");
      if (first_wildcard == std::string::npos) {
        values.push_back(value);
        return expr + " = ?";
      }
      std::string clause = expr + " GLOB ?";
      values.push_back(GlobPattern(value));
      // GLOB alone uses an index only in some plans; the explicit prefix range always can.
      const std::string prefix = value.substr(0, first_wildcard);
      if (auto upper = PrefixSuccessor(prefix)) {
        clause += " AND " + expr + " >= ? AND " + expr + " < ?";
        values.push_back(prefix);
        values.push_back(*upper);
      }
      return clause;
    }
    case Match::Kind::kRange: {
      if (match.values.size() != 2) {
        return Fail(ErrorCode::kInvalidInput,
                    fmt::format("range on '{}' needs two bounds (either may be empty), got {}", match.column,
                                match.values.size()));
      }
      const std::string& low = match.values[0];
      const std::string& high = match.values[1];
      if (low.empty() && high.empty()) return std::string();
      // An entity with no value is outside every range.
      std::string clause = expr + " <> ''";
      if (!low.empty()) {
        clause += " AND " + expr + " >= ?";
        values.push_back(low);
      }
      if (!high.empty()) {
        // The upper bound includes everything that starts with it: a time range
        // ending "1015" includes "101500.25"; a date range ending on a day includes it.
        if (auto upper = PrefixSuccessor(high)) {
          clause += " AND " + expr + " < ?";
          values.push_back(*upper);
        } else {
          clause += " AND (" + expr + " <= ? OR " + expr + " GLOB ?)";
          values.push_back(high);
          values.push_back(GlobPattern(high) + "*");
        }
      }
      return clause;
    }
    case Match::Kind::kList: {
      std::string clause = expr + " IN (";
      for (std::size_t i = 0; i < match.values.size(); ++i) {
        clause += i ? ", ?" : "?";
        values.push_back(match.values[i]);
      }
      return clause + ")";
    }
    case Match::Kind::kFuzzyName: {
      // Each word begins a component: " SMITH JOHN" GLOB "* JO*".
      const std::string words = "(' ' || upper(replace(replace(" + expr + ", '^', ' '), '=', ' ')))";
      std::string clause;
      for (const auto& word : match.values) {
        clause += (clause.empty() ? "" : " AND ") + words + " GLOB ?";
        values.push_back("* " + GlobPattern(word) + "*");
      }
      return clause;
    }
  }
  return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' has an unknown kind of match", match.column));
}

// Keys that pick out few rows through their index when matched exactly or by
// a prefix: identifiers, UIDs and names.
bool IsSelective(const Match& match) {
  static const std::set<std::string> kSelective = {"patient_id", "patient_name", "nhs_number",
                                                   "study_instance_uid", "accession_number",
                                                   "series_instance_uid", "sop_instance_uid"};
  if (!kSelective.count(match.column) || match.values.empty()) return false;
  switch (match.kind) {
    case Match::Kind::kSingleValue: return !match.values[0].empty();
    case Match::Kind::kList: return true;
    case Match::Kind::kWildcard: {
      const auto wildcard = match.values[0].find_first_of("*?");
      return wildcard != 0;  // a literal prefix (or no wildcard at all)
    }
    case Match::Kind::kRange:
    case Match::Kind::kFuzzyName: return false;
  }
  return false;
}

// The WHERE clause of `query` for rows at `level` (keys of that level and above).
Result<Where> BuildWhere(const Query& query, QueryLevel level) {
  // Without statistics SQLite may drive a search from a wide date range instead
  // of a patient's name or ID; when a selective key is present, a range is made
  // a filter only (unary '+' hides the column from the planner's index choice).
  const bool selective = std::any_of(query.matches.begin(), query.matches.end(), IsSelective);
  Where where;
  for (const auto& match : query.matches) {
    const IndexColumn* column = FindIndexColumn(match.column);
    if (!column) {
      return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a query key of the index", match.column));
    }
    if (column->level > level) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("'{}' is below the level of the query and cannot be matched", match.column));
    }
    std::string clause;
    if (!column->sql) {
      // modalities_in_study: the study has a series whose modality matches.
      if (match.kind == Match::Kind::kRange) {
        return Fail(ErrorCode::kInvalidInput, "'modalities_in_study' cannot be matched by a range");
      }
      std::vector<std::string> values;
      DX_TRY(predicate, Predicate("ms.modality", match, values));
      if (predicate->empty()) continue;
      clause = "EXISTS (SELECT 1 FROM series ms WHERE ms.study_pk = s.pk AND " + *predicate + ")";
      where.values.insert(where.values.end(), values.begin(), values.end());
    } else {
      const std::string expr =
          selective && match.kind == Match::Kind::kRange ? std::string("+") + column->sql : column->sql;
      DX_TRY(predicate, Predicate(expr, match, where.values));
      if (predicate->empty()) continue;
      clause = std::move(*predicate);
    }
    where.sql += (where.sql.empty() ? " WHERE " : " AND ") + clause;
  }
  return where;
}

// Each level's natural order (instance_index.hpp); series and instances are
// grouped by their study first so that a multi-study answer stays readable.
const char* OrderClause(QueryLevel level) {
  switch (level) {
    case QueryLevel::kPatient: return " ORDER BY p.patient_id, p.issuer_of_patient_id, p.pk";
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
    " i.columns, i.blob_key, i.size_bytes, i.sha256, i.received_at, i.calling_ae";
constexpr char kPatientCounts[] =
    ", (SELECT COUNT(*) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_series), 0) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_instances), 0) FROM studies ps WHERE ps.patient_pk = p.pk)";

// A search as SQL text plus its bound values; LIMIT and OFFSET are the last two parameters.
struct SearchSql {
  std::string sql;
  std::vector<std::string> values;
};

Result<SearchSql> BuildSearch(const Query& query) {
  DX_TRY(where, BuildWhere(query, query.level));
  if (query.level == QueryLevel::kStudy) {
    // The page is chosen first, from indexes alone where the keys allow it (a
    // patient's studies are indexed in date order); only its rows are then read.
    // A subquery with LIMIT joined to a table is not flattened by SQLite.
    std::string sql = std::string("SELECT ") + kPatientColumns + kStudyColumns + " FROM (SELECT s.pk AS page_pk" +
                      IndexFromClause(QueryLevel::kStudy) + where->sql + OrderClause(QueryLevel::kStudy) +
                      " LIMIT ? OFFSET ?) page JOIN studies s ON s.pk = page.page_pk JOIN patients p ON p.pk = "
                      "s.patient_pk" +
                      OrderClause(QueryLevel::kStudy);
    return SearchSql{std::move(sql), std::move(where->values)};
  }
  std::string sql = std::string("SELECT ") + kPatientColumns;
  if (query.level == QueryLevel::kPatient) sql += kPatientCounts;
  if (query.level >= QueryLevel::kStudy) sql += kStudyColumns;
  if (query.level >= QueryLevel::kSeries) sql += kSeriesColumns;
  if (query.level >= QueryLevel::kInstance) sql += kInstanceColumns;
  sql += IndexFromClause(query.level) + where->sql + OrderClause(query.level) + " LIMIT ? OFFSET ?";
  return SearchSql{std::move(sql), std::move(where->values)};
}

void BindSearch(Statement& statement, const SearchSql& search, const Query& query) {
  int index = 1;
  for (const auto& value : search.values) statement.Bind(index++, value);
  statement.Bind(index++, query.limit > 0 ? static_cast<std::int64_t>(query.limit) : std::int64_t{-1});
  statement.Bind(index, static_cast<std::int64_t>(query.offset));
}

StoredInstance StoredInstanceFrom(const Statement& statement) {
  return StoredInstance{statement.Text(0), statement.Text(1), statement.Text(2),
                        statement.Text(3), statement.Text(4), statement.Text(5),
                        static_cast<std::uint64_t>(statement.Int(6)), statement.Text(7)};
}

constexpr char kStoredInstanceColumns[] =
    "SELECT s.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sop_class_uid,"
    " i.transfer_syntax_uid, i.blob_key, i.size_bytes, i.sha256";

}  // namespace

struct SqliteIndex::Impl {
  std::string path;
  bool durable = false;
  std::mutex write_mutex;
  std::unique_ptr<Connection> writer;
  std::mutex pool_mutex;
  std::condition_variable pool_ready;
  std::vector<std::unique_ptr<Connection>> readers;

  // A read connection from the pool for the duration of one call.
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
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    Connection* operator->() { return connection_.get(); }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> connection_;
  };

  // Entities whose counts (and existence, after a replace moved an instance) need recomputing.
  struct Touched {
    std::set<std::int64_t> series, studies, patients;
  };

  Result<InsertResult> InsertOne(const InstanceRecord& r, bool replace_existing, Touched& touched);
  Result<void> RefreshCounts(const Touched& touched);
};

Result<std::unique_ptr<SqliteIndex>> SqliteIndex::Open(const std::string& path, bool durable, int readers) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->durable = durable;
  DX_TRY(writer, Connection::Open(path, durable));
  impl->writer = std::move(*writer);
  if (auto migrated = sqlite::ApplyMigrations(*impl->writer, path); !migrated) return tl::unexpected(migrated.error());
  for (int i = 0; i < std::max(1, readers); ++i) {
    DX_TRY(reader, Connection::Open(path, durable));
    if (auto ok = (*reader)->Execute("PRAGMA query_only=ON"); !ok) return tl::unexpected(ok.error());
    impl->readers.push_back(std::move(*reader));
  }
  return std::unique_ptr<SqliteIndex>(new SqliteIndex(std::move(impl)));
}

SqliteIndex::SqliteIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteIndex::~SqliteIndex() = default;

Result<InsertResult> SqliteIndex::Impl::InsertOne(const InstanceRecord& r, bool replace_existing, Touched& touched) {
  Connection& c = *writer;
  InsertResult result;
  {
    DX_TRY(existing, c.Prepare("SELECT i.pk, i.blob_key, i.sha256, i.series_pk, se.study_pk, s.patient_pk"
                               " FROM instances i JOIN series se ON se.pk = i.series_pk"
                               " JOIN studies s ON s.pk = se.study_pk WHERE i.sop_instance_uid = ?"));
    existing->Bind(1, r.sop_instance_uid);
    DX_TRY(found, existing->Step());
    if (*found) {
      result.previous_blob_key = existing->Text(1);
      result.previous_sha256 = existing->Text(2);
      if (!replace_existing) {
        result.outcome = InsertOutcome::kDuplicate;
        return result;
      }
      // The replacement may name another series, study or patient: the old
      // ones are recounted, and removed if this was all they held.
      touched.series.insert(existing->Int(3));
      touched.studies.insert(existing->Int(4));
      touched.patients.insert(existing->Int(5));
      const std::int64_t instance_pk = existing->Int(0);
      DX_TRY(remove, c.Prepare("DELETE FROM instances WHERE pk = ?"));
      remove->Bind(1, instance_pk);
      DX_TRY(removed, remove->Run());
      result.outcome = InsertOutcome::kReplaced;
    }
  }
  // Upserts keep stored attributes unless the new record has a non-empty
  // value, so a later instance can complete what an earlier one lacked.
  DX_TRY(patient,
         c.Prepare("INSERT INTO patients (patient_id, issuer_of_patient_id, patient_name, patient_birth_date,"
                   " patient_sex, nhs_number) VALUES (?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (patient_id, issuer_of_patient_id) DO UPDATE SET"
                   " patient_name = COALESCE(NULLIF(excluded.patient_name, ''), patient_name),"
                   " patient_birth_date = COALESCE(NULLIF(excluded.patient_birth_date, ''), patient_birth_date),"
                   " patient_sex = COALESCE(NULLIF(excluded.patient_sex, ''), patient_sex),"
                   " nhs_number = COALESCE(NULLIF(excluded.nhs_number, ''), nhs_number)"
                   " RETURNING pk"));
  patient->Bind(1, r.patient_id).Bind(2, r.issuer_of_patient_id).Bind(3, r.patient_name);
  patient->Bind(4, r.patient_birth_date).Bind(5, r.patient_sex).Bind(6, r.nhs_number);
  DX_TRY(patient_row, patient->Step());
  const std::int64_t patient_pk = patient->Int(0);

  DX_TRY(study,
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
  study->Bind(1, patient_pk).Bind(2, r.study_instance_uid).Bind(3, r.study_date).Bind(4, r.study_time);
  study->Bind(5, r.accession_number).Bind(6, r.study_id).Bind(7, r.study_description);
  study->Bind(8, r.referring_physician_name);
  DX_TRY(study_row, study->Step());
  const std::int64_t study_pk = study->Int(0);

  DX_TRY(series,
         c.Prepare("INSERT INTO series (study_pk, series_instance_uid, modality, series_number, series_description,"
                   " body_part_examined) VALUES (?, ?, ?, ?, ?, ?)"
                   " ON CONFLICT (series_instance_uid) DO UPDATE SET"
                   " modality = COALESCE(NULLIF(excluded.modality, ''), modality),"
                   " series_number = COALESCE(NULLIF(excluded.series_number, ''), series_number),"
                   " series_description = COALESCE(NULLIF(excluded.series_description, ''), series_description),"
                   " body_part_examined = COALESCE(NULLIF(excluded.body_part_examined, ''), body_part_examined)"
                   " RETURNING pk"));
  series->Bind(1, study_pk).Bind(2, r.series_instance_uid).Bind(3, r.modality).Bind(4, r.series_number);
  series->Bind(5, r.series_description).Bind(6, r.body_part_examined);
  DX_TRY(series_row, series->Step());
  const std::int64_t series_pk = series->Int(0);

  DX_TRY(instance,
         c.Prepare("INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number,"
                   " transfer_syntax_uid, number_of_frames, rows, columns, blob_key, size_bytes, sha256, dicom_json,"
                   " received_at, calling_ae) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  instance->Bind(1, series_pk).Bind(2, r.sop_instance_uid).Bind(3, r.sop_class_uid).Bind(4, r.instance_number);
  instance->Bind(5, r.transfer_syntax_uid).Bind(6, r.number_of_frames).Bind(7, r.rows).Bind(8, r.columns);
  instance->Bind(9, r.blob_key).Bind(10, static_cast<std::int64_t>(r.size_bytes)).Bind(11, r.sha256);
  instance->Bind(12, r.dicom_json).Bind(13, r.received_at).Bind(14, r.calling_ae);
  DX_TRY(inserted, instance->Run());
  touched.series.insert(series_pk);
  touched.studies.insert(study_pk);
  return result;
}

Result<void> SqliteIndex::Impl::RefreshCounts(const Touched& touched) {
  Connection& c = *writer;
  for (std::int64_t pk : touched.series) {
    DX_TRY(update, c.Prepare("UPDATE series SET number_of_instances ="
                             " (SELECT COUNT(*) FROM instances WHERE series_pk = ?1) WHERE pk = ?1"));
    update->Bind(1, pk);
    DX_TRY(updated, update->Run());
    DX_TRY(remove, c.Prepare("DELETE FROM series WHERE pk = ? AND number_of_instances = 0"));
    remove->Bind(1, pk);
    DX_TRY(removed, remove->Run());
  }
  for (std::int64_t pk : touched.studies) {
    DX_TRY(update, c.Prepare("UPDATE studies SET"
                             " number_of_series = (SELECT COUNT(*) FROM series WHERE study_pk = ?1),"
                             " number_of_instances = (SELECT COALESCE(SUM(number_of_instances), 0) FROM series"
                             " WHERE study_pk = ?1),"
                             " modalities_in_study = (SELECT COALESCE(group_concat(modality, '\\'), '') FROM"
                             " (SELECT DISTINCT modality FROM series WHERE study_pk = ?1 AND modality <> ''"
                             " ORDER BY modality))"
                             " WHERE pk = ?1"));
    update->Bind(1, pk);
    DX_TRY(updated, update->Run());
    DX_TRY(remove, c.Prepare("DELETE FROM studies WHERE pk = ? AND number_of_series = 0"));
    remove->Bind(1, pk);
    DX_TRY(removed, remove->Run());
  }
  for (std::int64_t pk : touched.patients) {
    DX_TRY(remove,
           c.Prepare("DELETE FROM patients WHERE pk = ?1 AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_pk = ?1)"));
    remove->Bind(1, pk);
    DX_TRY(removed, remove->Run());
  }
  return {};
}

Result<std::vector<InsertResult>> SqliteIndex::InsertBatch(const std::vector<InstanceRecord>& records,
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
  std::lock_guard lock(impl_->write_mutex);
  Connection& c = *impl_->writer;
  if (auto ok = c.Execute("BEGIN IMMEDIATE"); !ok) return tl::unexpected(ok.error());
  auto rollback = [&](ErrorInfo error) -> Result<std::vector<InsertResult>> {
    (void)c.Execute("ROLLBACK");
    return tl::unexpected(std::move(error));
  };
  std::vector<InsertResult> results;
  results.reserve(records.size());
  Impl::Touched touched;
  for (const auto& record : records) {
    auto result = impl_->InsertOne(record, replace_existing, touched);
    if (!result) return rollback(result.error());
    results.push_back(std::move(*result));
  }
  if (auto ok = impl_->RefreshCounts(touched); !ok) return rollback(ok.error());
  if (auto ok = c.Execute("COMMIT"); !ok) return rollback(ok.error());
  return results;
}

Result<std::optional<StoredInstance>> SqliteIndex::FindInstance(const std::string& sop_instance_uid) {
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare(std::string(kStoredInstanceColumns) +
                                    " FROM instances i JOIN series se ON se.pk = i.series_pk"
                                    " JOIN studies s ON s.pk = se.study_pk WHERE i.sop_instance_uid = ?"));
  statement->Bind(1, sop_instance_uid);
  DX_TRY(found, statement->Step());
  if (!*found) return std::optional<StoredInstance>{};
  return std::optional<StoredInstance>(StoredInstanceFrom(*statement));
}

Result<std::vector<QueryRow>> SqliteIndex::Search(const Query& query) {
  DX_TRY(search, BuildSearch(query));
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare(search->sql));
  BindSearch(*statement, *search, query);
  std::vector<QueryRow> rows;
  while (true) {
    DX_TRY(more, statement->Step());
    if (!*more) break;
    QueryRow row;
    auto& a = row.attributes;
    const Statement& s = *statement;
    int col = 0;
    a.patient_id = s.Text(col++);
    a.issuer_of_patient_id = s.Text(col++);
    a.patient_name = s.Text(col++);
    a.patient_birth_date = s.Text(col++);
    a.patient_sex = s.Text(col++);
    a.nhs_number = s.Text(col++);
    if (query.level == QueryLevel::kPatient) {
      row.patient_related_studies = s.Int(col++);
      row.patient_related_series = s.Int(col++);
      row.patient_related_instances = s.Int(col++);
    }
    if (query.level >= QueryLevel::kStudy) {
      a.study_instance_uid = s.Text(col++);
      a.study_date = s.Text(col++);
      a.study_time = s.Text(col++);
      a.accession_number = s.Text(col++);
      a.study_id = s.Text(col++);
      a.study_description = s.Text(col++);
      a.referring_physician_name = s.Text(col++);
      row.modalities_in_study = s.Text(col++);
      row.study_related_series = s.Int(col++);
      row.study_related_instances = s.Int(col++);
    }
    if (query.level >= QueryLevel::kSeries) {
      a.series_instance_uid = s.Text(col++);
      a.modality = s.Text(col++);
      a.series_number = s.Text(col++);
      a.series_description = s.Text(col++);
      a.body_part_examined = s.Text(col++);
      row.series_related_instances = s.Int(col++);
    }
    if (query.level >= QueryLevel::kInstance) {
      a.sop_instance_uid = s.Text(col++);
      a.sop_class_uid = s.Text(col++);
      a.instance_number = s.Text(col++);
      a.transfer_syntax_uid = s.Text(col++);
      a.number_of_frames = s.Int(col++);
      a.rows = s.Int(col++);
      a.columns = s.Int(col++);
      a.blob_key = s.Text(col++);
      a.size_bytes = static_cast<std::uint64_t>(s.Int(col++));
      a.sha256 = s.Text(col++);
      a.received_at = s.Text(col++);
      a.calling_ae = s.Text(col++);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> SqliteIndex::ExplainSearch(const Query& query) {
  DX_TRY(search, BuildSearch(query));
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare("EXPLAIN QUERY PLAN " + search->sql));
  BindSearch(*statement, *search, query);
  std::string plan;
  while (true) {
    DX_TRY(more, statement->Step());
    if (!*more) break;
    plan += statement->Text(3) + "\n";
  }
  return plan;
}

Result<std::vector<StoredInstance>> SqliteIndex::ListInstances(const Query& query) {
  DX_TRY(where, BuildWhere(query, QueryLevel::kInstance));
  const std::string sql = std::string(kStoredInstanceColumns) + IndexFromClause(QueryLevel::kInstance) + where->sql +
                          OrderClause(QueryLevel::kInstance);
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare(sql));
  for (std::size_t i = 0; i < where->values.size(); ++i) statement->Bind(static_cast<int>(i) + 1, where->values[i]);
  std::vector<StoredInstance> instances;
  while (true) {
    DX_TRY(more, statement->Step());
    if (!*more) break;
    instances.push_back(StoredInstanceFrom(*statement));
  }
  return instances;
}

Result<std::vector<std::string>> SqliteIndex::InstanceJson(const std::string& study_uid,
                                                           const std::string& series_uid, const std::string& sop_uid) {
  std::string sql =
      "SELECT i.dicom_json FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk"
      " WHERE s.study_instance_uid = ?";
  if (!series_uid.empty()) sql += " AND se.series_instance_uid = ?";
  if (!sop_uid.empty()) sql += " AND i.sop_instance_uid = ?";
  sql += " ORDER BY CAST(se.series_number AS INTEGER), se.pk, CAST(i.instance_number AS INTEGER), i.pk";
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare(sql));
  int parameter = 1;
  statement->Bind(parameter++, study_uid);
  if (!series_uid.empty()) statement->Bind(parameter++, series_uid);
  if (!sop_uid.empty()) statement->Bind(parameter++, sop_uid);
  std::vector<std::string> json;
  while (true) {
    DX_TRY(more, statement->Step());
    if (!*more) break;
    json.push_back(statement->Text(0));
  }
  return json;
}

Result<IndexStats> SqliteIndex::Stats() {
  Impl::Reader reader(*impl_);
  DX_TRY(statement, reader->Prepare("SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies),"
                                    " (SELECT COUNT(*) FROM series), (SELECT COUNT(*) FROM instances),"
                                    " (SELECT COALESCE(SUM(size_bytes), 0) FROM instances)"));
  DX_TRY(row, statement->Step());
  return IndexStats{statement->Int(0), statement->Int(1), statement->Int(2), statement->Int(3),
                    static_cast<std::uint64_t>(statement->Int(4))};
}


}  // namespace dx::storage
