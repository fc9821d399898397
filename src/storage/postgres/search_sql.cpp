#include "storage/api/index_schema.hpp"
#include "storage/postgres/search_sql.hpp"

#include <optional>

#include <fmt/format.h>

// As in connection.hpp (this file needs no libpq).
#ifndef DX_TRY
#define DX_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return tl::unexpected(var.error())
#endif

namespace dx::storage::postgres {

std::string LeadingInteger(const char* expr) {
  return fmt::format("COALESCE(substring({} FROM '^\\s*([-+]?[0-9]+)')::numeric, 0)", expr);
}

namespace {

// DICOM wildcards (PS3.4 C.2.2.2.4) as a LIKE pattern: '*' and '?' become '%'
// and '_'; LIKE's own metacharacters ('%', '_' and the escape '\') are literal.
std::string PgLikePattern(const std::string& value) {
  std::string pattern;
  for (char c : value) {
    switch (c) {
      case '*': pattern += '%'; break;
      case '?': pattern += '_'; break;
      case '%':
      case '_':
      case '\\':
        pattern += '\\';
        pattern += c;
        break;
      default: pattern += c;
    }
  }
  return pattern;
}

// The smallest string above every string that starts with `prefix` in byte
// order (COLLATE "C"), which for UTF-8 is code point order: the prefix with its
// last code point plus one. nullopt when `prefix` is not valid UTF-8 or has no
// successor. (A byte-wise increment, as for SQLite, could make invalid UTF-8,
// which PostgreSQL refuses as a value.)
std::optional<std::string> PgPrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    std::size_t start = prefix.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(prefix[start]) & 0xC0) == 0x80) --start;
    const auto lead = static_cast<unsigned char>(prefix[start]);
    const std::size_t length = prefix.size() - start;
    const std::size_t expected = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                                                                         : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (expected == 0 || expected != length) return std::nullopt;
    char32_t code = expected == 1 ? lead : expected == 2 ? lead & 0x1F : expected == 3 ? lead & 0x0F : lead & 0x07;
    for (std::size_t i = start + 1; i < prefix.size(); ++i) code = (code << 6) | (prefix[i] & 0x3F);
    prefix.resize(start);
    code += 1;
    if (code >= 0xD800 && code <= 0xDFFF) code = 0xE000;
    if (code > 0x10FFFF) continue;  // no successor for this one: increment the one before
    if (code < 0x80) {
      prefix += static_cast<char>(code);
    } else if (code < 0x800) {
      prefix += static_cast<char>(0xC0 | (code >> 6));
      prefix += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      prefix += static_cast<char>(0xE0 | (code >> 12));
      prefix += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      prefix += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      prefix += static_cast<char>(0xF0 | (code >> 18));
      prefix += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      prefix += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      prefix += static_cast<char>(0x80 | (code & 0x3F));
    }
    return prefix;
  }
  return std::nullopt;
}

// Appends a bound value, returning its placeholder ($n).
std::string PgBind(std::vector<std::string>& values, std::string value) {
  values.push_back(std::move(value));
  return "$" + std::to_string(values.size());
}

// The predicate of one match on SQL expression `expr`, appending its bound
// values; "" when the match constrains nothing (universal matching).
Result<std::string> PgPredicate(const std::string& expr, const Match& match, std::vector<std::string>& values) {
  if (match.values.empty()) return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' has no value", match.column));
  switch (match.kind) {
    case Match::Kind::kSingleValue: {
      // A zero-length value matches everything (PS3.4 C.2.2.2.3).
      if (match.values[0].empty()) return std::string();
      return expr + " = " + PgBind(values, match.values[0]);
    }
    case Match::Kind::kWildcard: {
      const std::string& value = match.values[0];
      if (value.find_first_not_of('*') == std::string::npos) return std::string();  // "*" or "": universal
      if (value.find_first_of("*?") == std::string::npos) return expr + " = " + PgBind(values, value);
      // Under COLLATE "C" the planner turns the pattern's literal prefix into an index range itself.
      return expr + " LIKE " + PgBind(values, PgLikePattern(value));
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
      if (!low.empty()) clause += " AND " + expr + " >= " + PgBind(values, low);
      if (!high.empty()) {
        // The upper bound includes everything that starts with it: a time range
        // ending "1015" includes "101500.25"; a date range ending on a day includes it.
        if (auto upper = PgPrefixSuccessor(high)) {
          clause += " AND " + expr + " < " + PgBind(values, *upper);
        } else {
          const std::string bound = PgBind(values, high);
          clause += " AND (" + expr + " <= " + bound + " OR starts_with(" + expr + ", " + bound + "))";
        }
      }
      return clause;
    }
    case Match::Kind::kList: {
      std::string clause = expr + " IN (";
      for (std::size_t i = 0; i < match.values.size(); ++i) {
        clause += (i ? ", " : "") + PgBind(values, match.values[i]);
      }
      return clause + ")";
    }
    case Match::Kind::kFuzzyName: {
      // Each word begins a component: ' SMITH JOHN' LIKE '% JO%'.
      const std::string words = "(' ' || upper(replace(replace(" + expr + ", '^', ' '), '=', ' ')))";
      std::string clause;
      for (const auto& word : match.values) {
        clause += (clause.empty() ? "" : " AND ") + words + " LIKE " + PgBind(values, "% " + PgLikePattern(word) + "%");
      }
      return clause;
    }
  }
  return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' has an unknown kind of match", match.column));
}

// The WHERE clause of `query` for rows at `level` (keys of that level and above).
Result<SearchSql> PgBuildWhere(const Query& query, QueryLevel level) {
  SearchSql where;
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
      DX_TRY(predicate, PgPredicate("ms.modality", match, where.values));
      if (predicate->empty()) continue;
      clause = "EXISTS (SELECT 1 FROM series ms WHERE ms.study_pk = s.pk AND " + *predicate + ")";
    } else {
      DX_TRY(predicate, PgPredicate(column->sql, match, where.values));
      if (predicate->empty()) continue;
      clause = std::move(*predicate);
    }
    where.sql += (where.sql.empty() ? " WHERE " : " AND ") + clause;
  }
  return where;
}

// Each level's natural order (instance_index.hpp); series and instances are
// grouped by their study first so that a multi-study answer stays readable.
std::string PgOrderClause(QueryLevel level) {
  switch (level) {
    case QueryLevel::kPatient: return " ORDER BY p.patient_id, p.issuer_of_patient_id, p.pk";
    case QueryLevel::kStudy: return " ORDER BY s.study_date, s.study_time, s.pk";
    case QueryLevel::kSeries: return " ORDER BY s.pk, " + LeadingInteger("se.series_number") + ", se.pk";
    case QueryLevel::kInstance:
      return " ORDER BY s.pk, " + LeadingInteger("se.series_number") + ", se.pk, " +
             LeadingInteger("i.instance_number") + ", i.pk";
  }
  return "";
}

constexpr char kPgPatientColumns[] =
    "p.patient_id, p.issuer_of_patient_id, p.patient_name, p.patient_birth_date, p.patient_sex, p.nhs_number";
constexpr char kPgStudyColumns[] =
    ", s.study_instance_uid, s.study_date, s.study_time, s.accession_number, s.study_id, s.study_description,"
    " s.referring_physician_name, s.modalities_in_study, s.number_of_series, s.number_of_instances";
constexpr char kPgSeriesColumns[] =
    ", se.series_instance_uid, se.modality, se.series_number, se.series_description, se.body_part_examined,"
    " se.number_of_instances";
constexpr char kPgInstanceColumns[] =
    ", i.sop_instance_uid, i.sop_class_uid, i.instance_number, i.transfer_syntax_uid, i.number_of_frames, i.rows,"
    " i.columns, i.blob_key, i.size_bytes, i.sha256, i.received_at, i.calling_ae";
constexpr char kPgPatientCounts[] =
    ", (SELECT COUNT(*) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_series), 0) FROM studies ps WHERE ps.patient_pk = p.pk),"
    " (SELECT COALESCE(SUM(ps.number_of_instances), 0) FROM studies ps WHERE ps.patient_pk = p.pk)";

}  // namespace

Result<SearchSql> BuildSearch(const Query& query) {
  DX_TRY(where, PgBuildWhere(query, query.level));
  std::string sql = std::string("SELECT ") + kPgPatientColumns;
  if (query.level == QueryLevel::kPatient) sql += kPgPatientCounts;
  if (query.level >= QueryLevel::kStudy) sql += kPgStudyColumns;
  if (query.level >= QueryLevel::kSeries) sql += kPgSeriesColumns;
  if (query.level >= QueryLevel::kInstance) sql += kPgInstanceColumns;
  sql += IndexFromClause(query.level) + where->sql + PgOrderClause(query.level);
  if (query.limit > 0) sql += " LIMIT " + PgBind(where->values, std::to_string(query.limit));
  if (query.offset > 0) sql += " OFFSET " + PgBind(where->values, std::to_string(query.offset));
  return SearchSql{std::move(sql), std::move(where->values)};
}

Result<SearchSql> BuildInstanceList(const Query& query) {
  DX_TRY(where, PgBuildWhere(query, QueryLevel::kInstance));
  where->sql = std::string(kStoredInstanceColumns) + IndexFromClause(QueryLevel::kInstance) + where->sql +
               PgOrderClause(QueryLevel::kInstance);
  return where;
}

}  // namespace dx::storage::postgres
