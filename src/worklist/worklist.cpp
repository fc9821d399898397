#include "worklist/worklist.hpp"

#include <cctype>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dx::worklist {
namespace {

namespace dt = dicom::tags;

bool Digits(const std::string& text, std::size_t from, std::size_t count) {
  if (text.size() < from + count) return false;
  for (std::size_t i = from; i < from + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool ValidDate(const std::string& d) { return d.size() == 8 && Digits(d, 0, 8); }

bool ValidTime(const std::string& t) {
  const std::size_t dot = t.find('.');
  const std::string whole = t.substr(0, dot);
  if (whole.size() < 2 || whole.size() > 6 || whole.size() % 2 != 0 || !Digits(whole, 0, whole.size())) return false;
  return dot == std::string::npos || (t.size() > dot + 1 && Digits(t, dot + 1, t.size() - dot - 1));
}

// A date or time value or range ("A", "A-B", "A-", "-B") split into its bounds.
Result<std::pair<std::string, std::string>> Bounds(const dicom::Element& element) {
  const std::string& value = element.value;
  const bool date = element.vr == "DA";
  auto valid = [&](const std::string& v) { return v.empty() || (date ? ValidDate(v) : ValidTime(v)); };
  const auto dash = value.find('-');
  std::pair<std::string, std::string> bounds = dash == std::string::npos
                                                   ? std::pair{value, value}
                                                   : std::pair{value.substr(0, dash), value.substr(dash + 1)};
  if (!valid(bounds.first) || !valid(bounds.second) || (bounds.first.empty() && bounds.second.empty()) ||
      bounds.second.find('-') != std::string::npos) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("({}) is not a valid {} or range: '{}'",
                                                      dicom::ToString(element.tag), date ? "date" : "time", value));
  }
  return bounds;
}

Result<void> Check(const dicom::Attributes& identifier) {
  for (const auto& element : identifier.elements()) {
    if (element.vr == "SQ") {
      if (element.items.size() > 1) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("sequence ({}) in a query may hold one item, not {}",
                                                          dicom::ToString(element.tag), element.items.size()));
      }
      for (const auto& item : element.items) {
        if (auto ok = Check(item); !ok) return ok;
      }
    } else if ((element.vr == "DA" || element.vr == "TM") && !element.value.empty()) {
      if (auto bounds = Bounds(element); !bounds) return tl::unexpected(bounds.error());
    }
  }
  return {};
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool Wildcard(const char* pattern, const char* text) {
  if (*pattern == '\0') return *text == '\0';
  if (*pattern == '*') return Wildcard(pattern + 1, text) || (*text != '\0' && Wildcard(pattern, text + 1));
  if (*text == '\0') return false;
  return (*pattern == '?' || *pattern == *text) && Wildcard(pattern + 1, text + 1);
}

bool MatchesValue(const dicom::Element& key, const std::string& value) {
  if (key.vr == "DA" || key.vr == "TM") {
    auto bounds = Bounds(key);
    if (!bounds) return false;
    // Compare over the key's precision: a time key "10" covers 10:00:00 to 10:59:59.
    const std::string low = value.substr(0, bounds->first.size());
    const std::string high = value.substr(0, bounds->second.size());
    return (bounds->first.empty() || low >= bounds->first) && (bounds->second.empty() || high <= bounds->second);
  }
  if (key.vr == "UI") {
    for (const auto& uid : dicom::SplitValues(key.value)) {
      if (uid == value) return true;
    }
    return false;
  }
  const bool fold = key.vr == "PN";
  const std::string pattern = fold ? Upper(key.value) : key.value;
  const std::string text = fold ? Upper(value) : value;
  if (pattern.find_first_of("*?") != std::string::npos) return Wildcard(pattern.c_str(), text.c_str());
  return pattern == text;
}

std::tm LocalTime(std::int64_t at) {
  const std::time_t t = static_cast<std::time_t>(at);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

// A single value usable as an exact store filter: no wildcard, no list.
std::string Exact(const dicom::Attributes& attributes, dicom::Tag tag) {
  const std::string value = attributes.Get(tag);
  if (value.find_first_of("*?\\") != std::string::npos) return "";
  return value;
}

dicom::Attributes Code(const std::string& value, const std::string& scheme, const std::string& meaning) {
  dicom::Attributes code;
  code.Set(tags::kCodeValue, "SH", value);
  code.Set(tags::kCodingSchemeDesignator, "SH", scheme);
  code.Set(tags::kCodeMeaning, "LO", meaning);
  return code;
}

}  // namespace

std::int64_t LocalInstant(const std::string& date, const std::string& time, int days) {
  if (date.size() != 8) return 0;
  std::tm tm{};
  try {
    tm.tm_year = std::stoi(date.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(date.substr(4, 2)) - 1;
    tm.tm_mday = std::stoi(date.substr(6, 2)) + days;
    if (time.size() >= 2) tm.tm_hour = std::stoi(time.substr(0, 2));
    if (time.size() >= 4) tm.tm_min = std::stoi(time.substr(2, 2));
    if (time.size() >= 6) tm.tm_sec = std::stoi(time.substr(4, 2));
  } catch (const std::exception&) {
    return 0;
  }
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  return t < 0 ? 0 : static_cast<std::int64_t>(t);
}

Result<WorklistQuery> ParseQuery(const dicom::Attributes& identifier) {
  if (auto ok = Check(identifier); !ok) return tl::unexpected(ok.error());
  WorklistQuery query;
  query.identifier = identifier;
  storage::ScheduledSearch& scheduled = query.scheduled;
  scheduled.accession_number = Exact(identifier, dt::kAccessionNumber);
  scheduled.nhs_number = Exact(identifier, dt::kPatientId);
  const auto* steps = identifier.Items(tags::kScheduledProcedureStepSequence);
  if (!steps || steps->empty()) return query;
  const dicom::Attributes& step = steps->front();
  scheduled.site = Exact(step, tags::kScheduledStepLocation);
  scheduled.modality = Exact(step, dt::kModality);
  for (const auto& element : step.elements()) {
    if (element.tag == tags::kScheduledStartDate && !element.value.empty()) {
      auto bounds = Bounds(element);
      if (!bounds->first.empty()) scheduled.from = LocalInstant(bounds->first, "");
      if (!bounds->second.empty()) scheduled.to = LocalInstant(bounds->second, "", 1);
    }
  }
  return query;
}

std::string StudyUidFor(const std::string& order_id) {
  // Long division of the hexadecimal digits by ten, least significant decimal digit first.
  std::vector<int> digits;
  for (char c : order_id) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      digits.push_back(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
    }
  }
  std::string decimal;
  bool zero = false;
  while (!zero) {
    int remainder = 0;
    zero = true;
    for (int& digit : digits) {
      const int current = remainder * 16 + digit;
      digit = current / 10;
      remainder = current % 10;
      zero = zero && digit == 0;
    }
    decimal.insert(decimal.begin(), static_cast<char>('0' + remainder));
  }
  return "2.25." + decimal;
}

dicom::Attributes ItemFor(const storage::OrderRecord& order) {
  const nlohmann::json details = nlohmann::json::parse(order.details.empty() ? "{}" : order.details, nullptr, false);
  auto detail = [&](const char* key) {
    return details.is_object() && details.contains(key) && details[key].is_string() ? details[key].get<std::string>()
                                                                                  : std::string();
  };
  const std::tm when = LocalTime(order.booked_for);
  char date[16], time[16];
  std::strftime(date, sizeof date, "%Y%m%d", &when);
  std::strftime(time, sizeof time, "%H%M%S", &when);

  dicom::Attributes step;
  step.Set(tags::kScheduledStationAeTitle, "AE", detail("station"));
  step.Set(tags::kScheduledStartDate, "DA", date);
  step.Set(tags::kScheduledStartTime, "TM", time);
  step.Set(dt::kModality, "CS", order.modality);
  step.Set(tags::kScheduledPerformingPhysician, "PN", "");
  step.Set(tags::kScheduledStepDescription, "LO", order.code_display);
  step.Set(tags::kScheduledStepId, "SH", order.accession_number);
  step.Set(tags::kScheduledStepLocation, "SH", order.booked_site);
  step.Set(tags::kScheduledStepStatus, "CS", order.stage == "in-progress" ? "STARTED" : "SCHEDULED");

  dicom::Attributes item;
  item.Set(dt::kSpecificCharacterSet, "CS", "ISO_IR 192");
  item.Set(dt::kAccessionNumber, "SH", order.accession_number);
  item.Set(dt::kReferringPhysicianName, "PN", order.requester);
  item.Set(dt::kPatientName, "PN", order.patient_name);
  item.Set(dt::kPatientId, "LO", order.nhs_number);
  item.Set(dt::kIssuerOfPatientId, "LO", "NHS");
  item.Set(dt::kPatientBirthDate, "DA", order.birth_date);
  item.Set(dt::kPatientSex, "CS", order.sex);
  item.Set(dt::kStudyInstanceUid, "UI", StudyUidFor(order.id));
  item.Set(tags::kRequestedProcedureDescription, "LO", order.code_display);
  item.SetSequence(tags::kRequestedProcedureCodeSequence, {Code(order.code, "DXHUB", order.code_display)});
  item.Set(tags::kRequestingPhysician, "PN", order.requester);
  item.Set(tags::kRequestingService, "LO", order.practice);
  item.SetSequence(tags::kScheduledProcedureStepSequence, {step});
  item.Set(tags::kRequestedProcedureId, "SH", order.accession_number);
  item.Set(tags::kRequestedProcedurePriority, "SH", order.priority == "routine" ? "ROUTINE" : "HIGH");
  item.Set(tags::kPlacerOrderNumber, "LO", order.id);
  return item;
}

bool Matches(const dicom::Attributes& item, const dicom::Attributes& identifier) {
  for (const auto& key : identifier.elements()) {
    if (key.vr == "SQ") {
      if (key.items.empty()) continue;
      const auto* items = item.Items(key.tag);
      if (!items) continue;
      bool any = false;
      for (const auto& candidate : *items) any = any || Matches(candidate, key.items.front());
      if (!any && !items->empty()) return false;
      continue;
    }
    if (key.value.empty() || key.value == "*" || key.tag == dt::kSpecificCharacterSet) continue;
    const auto value = item.Find(key.tag);
    if (!value) continue;  // not a key dxhub matches on: a return key
    if (!MatchesValue(key, *value)) return false;
  }
  return true;
}

namespace {

dicom::Attributes ProjectItem(const dicom::Attributes& item, const dicom::Attributes& identifier) {
  dicom::Attributes response;
  for (const auto& key : identifier.elements()) {
    if (key.vr == "SQ") {
      const auto* items = item.Items(key.tag);
      std::vector<dicom::Attributes> answer;
      if (items) {
        for (const auto& nested : *items) {
          answer.push_back(key.items.empty() ? nested : ProjectItem(nested, key.items.front()));
        }
      }
      response.SetSequence(key.tag, std::move(answer));
      continue;
    }
    response.Set(key.tag, key.vr, item.Get(key.tag));
  }
  return response;
}

}  // namespace

dicom::Attributes Project(const dicom::Attributes& item, const dicom::Attributes& identifier) {
  dicom::Attributes response = ProjectItem(item, identifier);
  if (!response.Has(dt::kSpecificCharacterSet)) response.Set(dt::kSpecificCharacterSet, "CS", "ISO_IR 192");
  return response;
}

}  // namespace dx::worklist
