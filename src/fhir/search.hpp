// FHIR R4 search parameters (https://hl7.org/fhir/R4/search.html) for the result
// resources, parsed and validated into a storage::ResourceSearch. Supported:
// patient.identifier / subject.identifier (the NHS number, Modulus 11 checked),
// status, category, code, date (with eq ge gt le lt), _sort (date or
// _lastUpdated, '-' for descending), _count (0–1000) and _offset (paging), _format
// (json only). Anything else is refused, naming the parameter: a search that
// silently ignored a filter could show a GP another patient's results.
#pragma once

#include <map>
#include <string>

#include "core/error.hpp"
#include "storage/api/result_store.hpp"

namespace dx::fhir {

inline constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr int kDefaultCount = 50;
inline constexpr int kMaxCount = 1000;

struct SearchError {
  std::string parameter;
  std::string message;
};

// The search for `type` ("DiagnosticReport" or "Observation"), or what is wrong.
tl::expected<storage::ResourceSearch, SearchError> ParseSearch(const std::string& type,
                                                               const std::multimap<std::string, std::string>& query);

// A FHIR date/dateTime search value ("2026-11", "2026-11-20T09:30:00+01:00") as the
// half-open interval of UTC text it covers [start, end), or nullopt when malformed.
std::optional<std::pair<std::string, std::string>> DateRange(const std::string& value);

}  // namespace dx::fhir
