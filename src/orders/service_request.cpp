#include "orders/service_request.hpp"

#include <ctime>

#include <fmt/format.h>

#include "core/nhs_number.hpp"
#include "fhir/search.hpp"
#include "orders/lifecycle.hpp"

namespace dx::orders {
namespace {

using nlohmann::json;

Result<storage::OrderRecord> Problem(RequestProblem* problem, std::string message, std::string location) {
  if (problem) *problem = {message, location};
  return Fail(ErrorCode::kInvalidInput, std::move(message));
}

std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The contained resource a local reference ("#id") names, or nullptr.
const json* Contained(const json& resource, const json& reference_holder, const char* type) {
  const std::string reference = Text(reference_holder, "reference");
  if (reference.size() < 2 || reference[0] != '#') return nullptr;
  auto contained = resource.find("contained");
  if (contained == resource.end() || !contained->is_array()) return nullptr;
  for (const auto& item : *contained) {
    if (item.is_object() && Text(item, "resourceType") == type && Text(item, "id") == reference.substr(1)) return &item;
  }
  return nullptr;
}

std::string IdentifierValue(const json& holder, const char* system) {
  auto read = [&](const json& identifier) {
    return identifier.is_object() && Text(identifier, "system") == system ? Text(identifier, "value") : "";
  };
  auto it = holder.find("identifier");
  if (it == holder.end()) return "";
  if (it->is_array()) {
    for (const auto& identifier : *it) {
      if (auto value = read(identifier); !value.empty()) return value;
    }
    return "";
  }
  return read(*it);
}

std::string DicomName(const json& patient) {
  auto names = patient.find("name");
  if (names == patient.end() || !names->is_array() || names->empty() || !(*names)[0].is_object()) return "";
  const json& name = (*names)[0];
  std::string given;
  if (auto g = name.find("given"); g != name.end() && g->is_array()) {
    for (const auto& part : *g) {
      if (!part.is_string()) continue;
      given += (given.empty() ? "" : " ") + part.get<std::string>();
    }
  }
  std::string family = Text(name, "family");
  if (family.empty() && given.empty()) return Text(name, "text");
  return given.empty() ? family : family + "^" + given;
}

std::string Upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

}  // namespace

std::optional<std::int64_t> ParseInstant(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int used = 0;
  if (text.size() < 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10) {
    return std::nullopt;
  }
  long offset = 0;
  if (text.size() > 10) {
    if (text[10] != 'T' || text.size() < 20 ||
        std::sscanf(text.c_str() + 11, "%2d:%2d:%2d", &hour, &minute, &second) != 3) {
      return std::nullopt;
    }
    std::size_t zone = 19;
    if (zone < text.size() && text[zone] == '.') {
      ++zone;
      while (zone < text.size() && std::isdigit(static_cast<unsigned char>(text[zone]))) ++zone;
    }
    const std::string rest = text.substr(zone);
    int zone_hours = 0, zone_minutes = 0;
    if (rest == "Z") {
      offset = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
               std::sscanf(rest.c_str() + 1, "%2d:%2d", &zone_hours, &zone_minutes) == 2) {
      offset = (rest[0] == '+' ? 1 : -1) * (zone_hours * 3600L + zone_minutes * 60L);
    } else {
      return std::nullopt;  // a dateTime with a time needs its zone
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::tm asked = tm;
  const std::time_t seconds = timegm(&tm);  // normalises tm in place: a changed day means it did not exist
  if (tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon) return std::nullopt;
  return static_cast<std::int64_t>(seconds) - offset;
}

std::string FormatInstant(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

Result<storage::OrderRecord> ReadServiceRequest(const json& resource, const TestCatalogue& catalogue,
                                                std::int64_t now, RequestProblem* problem) {
  if (!resource.is_object() || Text(resource, "resourceType") != "ServiceRequest") {
    return Problem(problem, "the body is not a ServiceRequest resource", "ServiceRequest.resourceType");
  }
  storage::OrderRecord order;
  const std::string status = Text(resource, "status");
  if (status != "active") {
    return Problem(problem, fmt::format("status '{}' cannot start a request: send 'active'", status),
                   "ServiceRequest.status");
  }
  const std::string intent = Text(resource, "intent");
  if (intent != "order" && intent != "original-order") {
    return Problem(problem, fmt::format("intent '{}' is not an order", intent), "ServiceRequest.intent");
  }

  // The test.
  auto code = resource.find("code");
  if (code == resource.end() || !code->is_object() || !code->contains("coding") || !(*code)["coding"].is_array()) {
    return Problem(problem, "the request names no test (code.coding)", "ServiceRequest.code");
  }
  std::optional<TestInfo> test;
  std::string asked;
  for (const auto& coding : (*code)["coding"]) {
    if (!coding.is_object()) continue;
    asked = Text(coding, "system") + "|" + Text(coding, "code");
    if ((test = catalogue.Find(Text(coding, "system"), Text(coding, "code")))) break;
  }
  if (!test) {
    return Problem(problem, fmt::format("unknown test code {}: use a code of {} (or its SNOMED CT concept)", asked,
                                        kInvestigationSystem),
                   "ServiceRequest.code.coding");
  }
  if (!test->orderable) {
    return Problem(problem, fmt::format("{} ({}) is not a test that can be performed", test->code, test->display),
                   "ServiceRequest.code.coding");
  }
  order.code = test->code;
  order.code_display = test->display;
  order.modality = test->modality;
  order.test_group = test->test_group;

  // The patient.
  auto subject = resource.find("subject");
  if (subject == resource.end() || !subject->is_object()) {
    return Problem(problem, "the request has no subject", "ServiceRequest.subject");
  }
  const json* patient = Contained(resource, *subject, "Patient");
  if (!patient) {
    return Problem(problem,
                   "unknown patient: the subject must reference a contained Patient (\"#id\") with the NHS number, "
                   "name, birth date and gender",
                   "ServiceRequest.subject");
  }
  order.nhs_number = IdentifierValue(*patient, fhir::kNhsNumberSystem);
  if (order.nhs_number.empty()) {
    return Problem(problem, fmt::format("the patient has no identifier of {}", fhir::kNhsNumberSystem),
                   "ServiceRequest.contained.Patient.identifier");
  }
  if (!IsValidNhsNumber(order.nhs_number)) {
    order.nhs_number.clear();  // never echoed
    return Problem(problem, "the patient's NHS number fails its Modulus 11 check",
                   "ServiceRequest.contained.Patient.identifier");
  }
  order.patient_name = Upper(DicomName(*patient));
  if (order.patient_name.empty()) {
    return Problem(problem, "the patient has no name", "ServiceRequest.contained.Patient.name");
  }
  const std::string birth = Text(*patient, "birthDate");
  if (!birth.empty()) {
    if (birth.size() != 10 || !ParseInstant(birth)) {
      return Problem(problem, fmt::format("birthDate '{}' is not a date", birth), "ServiceRequest.contained.Patient.birthDate");
    }
    order.birth_date = birth.substr(0, 4) + birth.substr(5, 2) + birth.substr(8, 2);
  }
  const std::string gender = Text(*patient, "gender");
  order.sex = gender == "male" ? "M" : gender == "female" ? "F" : gender == "other" ? "O" : "";

  // The requester and the practice.
  auto requester = resource.find("requester");
  const json* role = requester != resource.end() && requester->is_object()
                         ? Contained(resource, *requester, "PractitionerRole")
                         : nullptr;
  if (!role) {
    return Problem(problem,
                   "the requester must reference a contained PractitionerRole with the practitioner and the practice",
                   "ServiceRequest.requester");
  }
  if (auto practitioner = role->find("practitioner"); practitioner != role->end() && practitioner->is_object()) {
    order.requester = Text(*practitioner, "display");
    if (auto id = practitioner->find("identifier"); id != practitioner->end() && id->is_object()) {
      order.requester = Text(*id, "value");
    }
  }
  if (order.requester.empty()) {
    return Problem(problem, "the requester names no practitioner", "ServiceRequest.contained.PractitionerRole.practitioner");
  }
  if (auto organization = role->find("organization"); organization != role->end() && organization->is_object()) {
    order.practice = IdentifierValue(*organization, kOdsSystem);
  }
  if (order.practice.empty()) {
    return Problem(problem, fmt::format("the requester's organization has no {} identifier", kOdsSystem),
                   "ServiceRequest.contained.PractitionerRole.organization");
  }
  if (auto performers = resource.find("performer"); performers != resource.end() && performers->is_array()) {
    for (const auto& performer : *performers) {
      if (!performer.is_object()) continue;
      order.performer_site = IdentifierValue(performer, kOdsSystem);
      if (!order.performer_site.empty()) break;
    }
  }
  if (order.performer_site.empty()) {
    return Problem(problem, fmt::format("the request names no performing site (performer with a {} identifier)", kOdsSystem),
                   "ServiceRequest.performer");
  }

  // Priority: routine or urgent; the two-week-wait cancer pathway as a category.
  const std::string priority = Text(resource, "priority");
  if (priority.empty() || priority == "routine") {
    order.priority = "routine";
  } else if (priority == "urgent" || priority == "asap" || priority == "stat") {
    order.priority = "urgent";
  } else {
    return Problem(problem, fmt::format("priority '{}' is not routine, urgent, asap or stat", priority),
                   "ServiceRequest.priority");
  }
  if (auto categories = resource.find("category"); categories != resource.end() && categories->is_array()) {
    for (const auto& category : *categories) {
      if (!category.is_object() || !category.contains("coding") || !category["coding"].is_array()) continue;
      for (const auto& coding : category["coding"]) {
        if (!coding.is_object()) continue;
        if (Text(coding, "system") == kPathwaySystem && Text(coding, "code") == "two-week-wait") {
          order.priority = "two-week-wait";
        } else if (Text(coding, "system") == kActivitySystem) {
          const std::string activity = Text(coding, "code");
          if (activity != "waiting-list" && activity != "planned" && activity != "unscheduled") {
            return Problem(problem, fmt::format("DM01 activity '{}' is not waiting-list, planned or unscheduled", activity),
                           "ServiceRequest.category");
          }
          order.activity = activity;
        }
      }
    }
  }

  // When: received now; an earlier authoredOn (the GP's own time) starts the clock.
  order.requested_at = now;
  if (const std::string authored = Text(resource, "authoredOn"); !authored.empty()) {
    auto at = ParseInstant(authored);
    if (!at) return Problem(problem, fmt::format("authoredOn '{}' is not a dateTime", authored), "ServiceRequest.authoredOn");
    if (*at > now + 300) {
      return Problem(problem, "authoredOn is in the future", "ServiceRequest.authoredOn");
    }
    order.requested_at = std::min(*at, now);
  }
  order.clock_start = order.requested_at;
  order.stage = stage::kRequested;

  // The clinical indication, notes and the decision-support result, kept as given.
  json details = json::object();
  for (const char* key : {"reasonCode", "note", "supportingInfo", "bodySite"}) {
    if (auto it = resource.find(key); it != resource.end()) details[key] = *it;
  }
  if (auto extensions = resource.find("extension"); extensions != resource.end() && extensions->is_array()) {
    for (const auto& extension : *extensions) {
      if (!extension.is_object() || Text(extension, "url") != kDecisionSupportUrl) continue;
      json support = json::object();
      if (auto parts = extension.find("extension"); parts != extension.end() && parts->is_array()) {
        for (const auto& part : *parts) {
          if (!part.is_object()) continue;
          const std::string name = Text(part, "url");
          for (const auto& [key, value] : part.items()) {
            if (key.rfind("value", 0) == 0) support[name] = value;
          }
        }
      }
      if (!support.contains("rule")) {
        return Problem(problem, "the decision-support extension names no rule", "ServiceRequest.extension");
      }
      if (support.value("overridden", false) && support.value("overrideReason", std::string()).empty()) {
        return Problem(problem, "a decision-support recommendation was overridden without a reason",
                       "ServiceRequest.extension");
      }
      details["decisionSupport"] = support;
    }
  }
  order.details = details.dump();
  return order;
}

json WriteServiceRequest(const storage::OrderRecord& order) {
  const json details = json::parse(order.details.empty() ? "{}" : order.details, nullptr, false);
  const bool finished = order.stage == stage::kAcknowledged;
  const bool stopped = order.stage == stage::kRejected || order.stage == stage::kCancelled;
  json patient_name = json::object();
  const auto caret = order.patient_name.find('^');
  patient_name["family"] = order.patient_name.substr(0, caret);
  if (caret != std::string::npos) patient_name["given"] = json::array({order.patient_name.substr(caret + 1)});
  json patient = {{"resourceType", "Patient"},
                  {"id", "patient"},
                  {"identifier", json::array({{{"system", fhir::kNhsNumberSystem}, {"value", order.nhs_number}}})},
                  {"name", json::array({patient_name})}};
  if (order.birth_date.size() == 8) {
    patient["birthDate"] = order.birth_date.substr(0, 4) + "-" + order.birth_date.substr(4, 2) + "-" +
                           order.birth_date.substr(6, 2);
  }
  if (!order.sex.empty()) patient["gender"] = order.sex == "M" ? "male" : order.sex == "F" ? "female" : "other";
  json role = {{"resourceType", "PractitionerRole"},
               {"id", "requester"},
               {"practitioner", {{"identifier", {{"value", order.requester}}}}},
               {"organization", {{"identifier", {{"system", kOdsSystem}, {"value", order.practice}}}}}};
  json coding = json::array({{{"system", kInvestigationSystem}, {"code", order.code}, {"display", order.code_display}}});
  json out = {{"resourceType", "ServiceRequest"},
              {"id", order.id},
              {"meta", {{"versionId", std::to_string(order.version)}, {"lastUpdated", order.last_updated}}},
              {"contained", json::array({patient, role})},
              {"extension", json::array({{{"url", kStageUrl}, {"valueCode", order.stage}}})},
              {"status", finished ? "completed" : stopped ? "revoked" : "active"},
              {"intent", "order"},
              {"priority", order.priority == "routine" ? "routine" : "urgent"},
              {"code", {{"coding", coding}, {"text", order.code_display}}},
              {"subject", {{"reference", "#patient"},
                           {"identifier", {{"system", fhir::kNhsNumberSystem}, {"value", order.nhs_number}}}}},
              {"authoredOn", FormatInstant(order.requested_at)},
              {"requester", {{"reference", "#requester"}}},
              {"performer", json::array({{{"identifier", {{"system", kOdsSystem},
                                                           {"value", order.booked_site.empty() ? order.performer_site
                                                                                               : order.booked_site}}}}})}};
  json categories = json::array();
  if (order.priority == "two-week-wait") {
    categories.push_back({{"coding", json::array({{{"system", kPathwaySystem}, {"code", "two-week-wait"},
                                                   {"display", "Suspected cancer: two-week-wait pathway"}}})}});
  }
  if (!order.activity.empty() && order.activity != "waiting-list") {
    categories.push_back({{"coding", json::array({{{"system", kActivitySystem}, {"code", order.activity}}})}});
  }
  if (!categories.empty()) out["category"] = std::move(categories);
  if (!order.accession_number.empty()) {
    out["identifier"] = json::array(
        {{{"type", {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v2-0203"},
                                             {"code", "ACSN"}}})}}},
          {"system", kAccessionSystem},
          {"value", order.accession_number}}});
  }
  if (order.booked_for) out["occurrenceDateTime"] = FormatInstant(order.booked_for);
  if (details.is_object()) {
    for (const char* key : {"reasonCode", "note", "supportingInfo", "bodySite"}) {
      if (details.contains(key)) out[key] = details[key];
    }
    if (details.contains("decisionSupport") && details["decisionSupport"].is_object()) {
      json parts = json::array();
      for (const auto& [name, value] : details["decisionSupport"].items()) {
        const char* type = value.is_boolean() ? "valueBoolean"
                           : value.is_number_integer() ? "valueInteger"
                           : value.is_number() ? "valueDecimal"
                                               : "valueString";
        parts.push_back({{"url", name}, {type, value}});
      }
      out["extension"].push_back({{"url", kDecisionSupportUrl}, {"extension", parts}});
    }
  }
  return out;
}

}  // namespace dx::orders
