#include "fhir/search.hpp"

#include <ctime>
#include <regex>

#include <fmt/format.h>

#include "core/nhs_number.hpp"

namespace dx::fhir {
namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

std::string Utc(std::time_t seconds) {
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

tl::unexpected<SearchError> Refuse(std::string parameter, std::string message) {
  return tl::unexpected(SearchError{std::move(parameter), std::move(message)});
}

const std::vector<std::string>& Statuses(const std::string& type) {
  static const std::vector<std::string> kReport{"registered", "partial", "preliminary", "final", "amended",
                                                "corrected", "appended", "cancelled", "entered-in-error", "unknown"};
  static const std::vector<std::string> kObservation{"registered", "preliminary", "final", "amended", "corrected",
                                                     "cancelled", "entered-in-error", "unknown"};
  return type == "Observation" ? kObservation : kReport;
}

// A token value: a bare code or system|code, without characters no code has.
bool ValidToken(const std::string& value) {
  if (value.empty() || value.size() > 256) return false;
  for (unsigned char c : value) {
    if (c < 0x21 || c == ',') return false;
  }
  return value.front() != '|' && value.back() != '|';
}

}  // namespace

std::optional<std::pair<std::string, std::string>> DateRange(const std::string& value) {
  static const std::regex kDate(R"((\d{4})(?:-(\d{2})(?:-(\d{2}))?)?)");
  static const std::regex kDateTime(
      R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)");
  std::smatch m;
  std::tm tm{};
  if (std::regex_match(value, m, kDate)) {
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = m[2].matched ? std::stoi(m[2]) - 1 : 0;
    tm.tm_mday = m[3].matched ? std::stoi(m[3]) : 1;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return std::nullopt;
    std::tm end = tm;
    if (m[3].matched) {
      end.tm_mday += 1;
    } else if (m[2].matched) {
      end.tm_mon += 1;
    } else {
      end.tm_year += 1;
    }
    const int day = tm.tm_mday;
    const std::time_t start_time = timegm(&tm);  // normalises tm: 2026-02-30 becomes 2026-03-02
    if (tm.tm_mday != day) return std::nullopt;
    const std::string start = Utc(start_time), stop = Utc(timegm(&end));
    // Prefixes as long as the value's precision, so stored dates without a time compare too.
    const std::size_t length = value.size();
    return std::make_pair(start.substr(0, length), stop.substr(0, length));
  }
  if (std::regex_match(value, m, kDateTime)) {
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = m[6].matched ? std::stoi(m[6]) : 0;
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) {
      return std::nullopt;
    }
    std::time_t seconds = timegm(&tm);
    const std::string zone = m[7].matched ? m[7].str() : "Z";
    if (zone != "Z") {
      const int offset = (std::stoi(zone.substr(1, 2)) * 60 + std::stoi(zone.substr(4, 2))) * 60;
      seconds += zone[0] == '+' ? -offset : offset;
    }
    return std::make_pair(Utc(seconds), Utc(seconds + (m[6].matched ? 1 : 60)));
  }
  return std::nullopt;
}

tl::expected<storage::ResourceSearch, SearchError> ParseSearch(const std::string& type,
                                                               const std::multimap<std::string, std::string>& query) {
  storage::ResourceSearch search;
  search.type = type;
  search.count = kDefaultCount;
  for (const auto& [name, value] : query) {
    if (name == "patient.identifier" || name == "subject.identifier" || name == "patient:Patient.identifier" ||
        name == "subject:Patient.identifier") {
      const auto bar = value.find('|');
      if (bar == std::string::npos || value.substr(0, bar) != kNhsNumberSystem) {
        return Refuse(name, fmt::format("{} must be {}|<NHS number>", name, kNhsNumberSystem));
      }
      const std::string number = value.substr(bar + 1);
      if (!IsValidNhsNumber(number)) return Refuse(name, fmt::format("'{}' is not a valid NHS number", number));
      if (!search.nhs_number.empty() && search.nhs_number != number) {
        return Refuse(name, "two different patients were asked for");
      }
      search.nhs_number = number;
    } else if (name == "status") {
      for (const auto& status : SplitList(value)) {
        const auto& allowed = Statuses(type);
        if (std::find(allowed.begin(), allowed.end(), status) == allowed.end()) {
          return Refuse(name, fmt::format("'{}' is not a {} status", status, type));
        }
        search.statuses.push_back(status);
      }
    } else if (name == "category" || name == "code") {
      for (auto token : SplitList(value)) {
        if (!ValidToken(token)) return Refuse(name, fmt::format("'{}' is not a token (code or system|code)", token));
        if (name == "category") {
          // Categories are kept by code; a system, when given, is not distinguished.
          const auto bar = token.find('|');
          search.categories.push_back(bar == std::string::npos ? token : token.substr(bar + 1));
        } else {
          search.codes.push_back(token);
        }
      }
    } else if (name == "date") {
      std::string prefix = "eq", date = value;
      if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0]))) {
        prefix = value.substr(0, 2);
        date = value.substr(2);
      }
      auto range = DateRange(date);
      if (!range) return Refuse(name, fmt::format("'{}' is not a FHIR date or dateTime", date));
      if (prefix == "eq") {
        search.effective.push_back({">=", range->first});
        search.effective.push_back({"<", range->second});
      } else if (prefix == "ge") {
        search.effective.push_back({">=", range->first});
      } else if (prefix == "gt") {
        search.effective.push_back({">=", range->second});
      } else if (prefix == "le") {
        search.effective.push_back({"<", range->second});
      } else if (prefix == "lt") {
        search.effective.push_back({"<", range->first});
      } else {
        return Refuse(name, fmt::format("date prefix '{}' is not supported (eq, ge, gt, le, lt)", prefix));
      }
    } else if (name == "_sort") {
      std::string key = value;
      search.sort_descending = !key.empty() && key[0] == '-';
      if (search.sort_descending) key.erase(0, 1);
      if (key == "date") {
        search.sort_by = "effective";
      } else if (key == "_lastUpdated") {
        search.sort_by = "last_updated";
      } else {
        return Refuse(name, fmt::format("cannot sort by '{}' (date, -date, _lastUpdated, -_lastUpdated)", value));
      }
    } else if (name == "_count" || name == "_offset") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      const long limit = name == "_count" ? kMaxCount : 100000000;
      if (value.empty() || *end != '\0' || n < 0 || n > limit) {
        return Refuse(name, fmt::format("{} must be a whole number from 0 to {}", name, limit));
      }
      (name == "_count" ? search.count : search.offset) = static_cast<int>(n);
    } else if (name == "_format") {
      if (value != "json" && value != "application/json" && value != "application/fhir+json") {
        return Refuse(name, "only JSON is served (_format=json)");
      }
    } else {
      return Refuse(name, fmt::format("search parameter '{}' is not supported for {}", name, type));
    }
  }
  return search;
}

}  // namespace dx::fhir
