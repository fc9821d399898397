// The SQL every ResultStore adapter runs for a ResourceSearch over the
// fhir_resources table (migrations/<dialect>/0003_results.sql, indexes as of
// 0007_results_indexes.sql): a WHERE clause
// with '?' placeholders and their values in order (adapters whose driver numbers
// its placeholders renumber them), and the ORDER BY. Only fixed column names
// ever enter the text; every value is a parameter.
#pragma once

#include <string>
#include <vector>

#include "storage/api/result_store.hpp"

namespace dx::storage {

struct ResultSearchSql {
  std::string where;                // " WHERE …"
  std::vector<std::string> params;  // one per '?'
  std::string order;                // " ORDER BY …"
};

inline ResultSearchSql MakeResultSearchSql(const ResourceSearch& search) {
  ResultSearchSql sql;
  sql.where = " WHERE type = ?";
  sql.params.push_back(search.type);
  auto any_of = [&](const char* column, const std::vector<std::string>& values) {
    if (values.empty()) return;
    sql.where += std::string(" AND ") + column + " IN (";
    for (std::size_t i = 0; i < values.size(); ++i) {
      sql.where += i ? ",?" : "?";
      sql.params.push_back(values[i]);
    }
    sql.where += ")";
  };
  if (!search.nhs_number.empty()) {
    sql.where += " AND nhs_number = ?";
    sql.params.push_back(search.nhs_number);
  }
  any_of("status", search.statuses);
  any_of("category", search.categories);
  if (!search.codes.empty()) {
    sql.where += " AND (";
    for (std::size_t i = 0; i < search.codes.size(); ++i) {
      const auto& code = search.codes[i];
      if (i) sql.where += " OR ";
      const auto bar = code.find('|');
      // Both columns are indexed with the type; a bare code matches it in any system.
      sql.where += bar == std::string::npos ? "code_value = ?" : "(code_value = ? AND code = ?)";
      sql.params.push_back(bar == std::string::npos ? code : code.substr(bar + 1));
      if (bar != std::string::npos) sql.params.push_back(code);
    }
    sql.where += ")";
  }
  for (const auto& [op, bound] : search.effective) {
    sql.where += op == "<" ? " AND effective < ?" : " AND effective >= ?";
    sql.params.push_back(bound);
  }
  const char* column = search.sort_by == "last_updated" ? "last_updated" : "effective";
  const char* direction = search.sort_descending ? " DESC" : " ASC";
  sql.order = std::string(" ORDER BY ") + column + direction + ", id" + direction;
  return sql;
}

}  // namespace dx::storage
