// The SQL of InstanceIndex searches on the PostgreSQL schema
// (migrations/postgres/): PS3.4 C.2.2.2 matching (single value, '*'/'?'
// wildcards as LIKE, ranges whose upper bound includes what starts with it,
// lists, universal matching) over the column whitelist of instance_index.hpp,
// each level's natural order, and limit/offset. Values are always bound
// parameters ($1...), never spliced into the text. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::storage::postgres {

// SQL text and the values bound to its $1..$n, in order.
struct SearchSql {
  std::string sql;
  std::vector<std::string> values;
};

// The rows of query.level with the attributes of the levels above and the
// computed counts (columns in the order PostgresIndex::Search reads them),
// ordered, with LIMIT and OFFSET. kInvalidInput for an unknown key, a key below
// the level, or a malformed match.
Result<SearchSql> BuildSearch(const Query& query);

// The stored instances under the query's matches (any level), in instance
// order, with the columns of kStoredInstanceColumns.
Result<SearchSql> BuildInstanceList(const Query& query);

inline constexpr char kStoredInstanceColumns[] =
    "SELECT s.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sop_class_uid,"
    " i.transfer_syntax_uid, i.blob_key, i.size_bytes, i.sha256";

// SQLite's CAST(text AS INTEGER) on `expr`: its leading integer, 0 when there is
// none (PostgreSQL's own cast fails on such text), for numeric ordering of IS values.
std::string LeadingInteger(const char* expr);

}  // namespace dx::storage::postgres
