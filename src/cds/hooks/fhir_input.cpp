#include "cds/hooks/fhir_input.hpp"

#include <charconv>

namespace dx::cds::hooks {
namespace {

using nlohmann::json;

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> DigitsAt(const std::string& text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  auto [end, error] = std::from_chars(text.data() + at, text.data() + at + count, value);
  if (error != std::errc() || end != text.data() + at + count) return std::nullopt;
  return value;
}

// The code of the CodeableConcept `status` (e.g. Condition.clinicalStatus), lower case.
std::string StatusCode(const json& codeable) {
  if (!codeable.is_object()) return {};
  auto codings = codeable.find("coding");
  if (codings == codeable.end() || !codings->is_array()) return {};
  for (const auto& coding : *codings) {
    if (coding.is_object()) {
      std::string code = StringField(coding, "code");
      if (!code.empty()) return code;
    }
  }
  return {};
}

// Resources of a Bundle (entry[].resource), an array, or nothing for null.
Result<std::vector<const json*>> ResourcesOf(const json& value, const std::string& field) {
  std::vector<const json*> out;
  if (value.is_null()) return out;
  if (value.is_array()) {
    for (const auto& item : value) out.push_back(&item);
    return out;
  }
  if (value.is_object() && StringField(value, "resourceType") == "Bundle") {
    auto entries = value.find("entry");
    if (entries == value.end()) return out;
    if (!entries->is_array()) return Fail(ErrorCode::kInvalidInput, field + ".entry must be an array");
    for (const auto& entry : *entries) {
      auto resource = entry.find("resource");
      if (!entry.is_object() || resource == entry.end() || !resource->is_object()) {
        return Fail(ErrorCode::kInvalidInput, field + ".entry[] must each have a resource object");
      }
      out.push_back(&*resource);
    }
    return out;
  }
  return Fail(ErrorCode::kInvalidInput, field + " must be a Bundle, an array of resources or null");
}

}  // namespace

std::optional<double> AgeOn(const std::string& birth_date, std::chrono::year_month_day today) {
  if (birth_date.size() != 10 || birth_date[4] != '-' || birth_date[7] != '-') return std::nullopt;
  auto year = DigitsAt(birth_date, 0, 4);
  auto month = DigitsAt(birth_date, 5, 2);
  auto day = DigitsAt(birth_date, 8, 2);
  if (!year || !month || !day) return std::nullopt;
  const std::chrono::year_month_day born{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!born.ok() || born > today) return std::nullopt;
  const int today_year = static_cast<int>(today.year());
  const int today_month = static_cast<int>(static_cast<unsigned>(today.month()));
  const int today_day = static_cast<int>(static_cast<unsigned>(today.day()));
  int months = (today_year - *year) * 12 + (today_month - *month);
  if (today_day < *day) --months;  // this month's birthday-day not reached yet
  if (months < 12) return months / 12.0;
  return static_cast<double>(months / 12);
}

Result<PatientFacts> PatientFromFhir(const json& patient, std::chrono::year_month_day today) {
  if (!patient.is_object() || StringField(patient, "resourceType") != "Patient") {
    return Fail(ErrorCode::kInvalidInput, "prefetch.patient must be a FHIR Patient resource");
  }
  PatientFacts facts;
  if (std::string id = StringField(patient, "id"); !id.empty()) facts.reference = "Patient/" + id;
  if (auto birth = patient.find("birthDate"); birth != patient.end()) {
    if (!birth->is_string()) return Fail(ErrorCode::kInvalidInput, "Patient.birthDate must be a string");
    facts.age = AgeOn(birth->get<std::string>(), today);
  }
  const std::string gender = StringField(patient, "gender");
  if (gender == "female") facts.sex = PatientSex::kFemale;
  if (gender == "male") facts.sex = PatientSex::kMale;
  return facts;
}

FindingInput FindingFromConcept(const KnowledgeBase& knowledge, const json& codeable) {
  const auto& vocabulary = knowledge.findings();
  std::string fallback;
  if (codeable.is_object()) {
    if (auto codings = codeable.find("coding"); codings != codeable.end() && codings->is_array()) {
      for (const auto& coding : *codings) {
        if (!coding.is_object()) continue;
        const std::string system = StringField(coding, "system");
        const std::string code = StringField(coding, "code");
        const std::string display = StringField(coding, "display");
        if (system == kSnomedSystem && !code.empty() && vocabulary.FindCode(code)) return {code, true};
        if (system == kFindingSystem && vocabulary.FindId(code)) return {code, true};
        if (!display.empty() && vocabulary.FindText(display)) return {display, true};
        if (fallback.empty()) fallback = !display.empty() ? display : code;
      }
    }
    const std::string text = StringField(codeable, "text");
    if (!text.empty()) return {text, true};
  }
  return {fallback, true};
}

Result<std::vector<FindingInput>> FindingsFromConditions(const KnowledgeBase& knowledge, const json& conditions) {
  auto resources = ResourcesOf(conditions, "prefetch.conditions");
  if (!resources) return tl::unexpected(resources.error());
  std::vector<FindingInput> out;
  for (const json* resource : *resources) {
    if (!resource->is_object() || StringField(*resource, "resourceType") != "Condition") continue;
    const std::string verification = StatusCode(resource->value("verificationStatus", json()));
    if (verification == "entered-in-error") continue;
    const std::string clinical = StatusCode(resource->value("clinicalStatus", json()));
    if (!clinical.empty() && clinical != "active" && clinical != "recurrence" && clinical != "relapse") continue;
    auto code = resource->find("code");
    if (code == resource->end()) continue;
    FindingInput input = FindingFromConcept(knowledge, *code);
    if (input.text.empty()) continue;
    input.present = verification != "refuted";
    out.push_back(std::move(input));
  }
  return out;
}

Result<DraftOrder> DraftOrderFromFhir(const KnowledgeBase& knowledge, const json& resource) {
  if (!resource.is_object() || StringField(resource, "resourceType") != "ServiceRequest") {
    return Fail(ErrorCode::kInvalidInput, "context.draftOrders entries must be ServiceRequest resources");
  }
  DraftOrder order;
  order.resource = resource;
  const std::string id = StringField(resource, "id");
  if (id.empty()) return Fail(ErrorCode::kInvalidInput, "a draft ServiceRequest has no id");
  order.reference = "ServiceRequest/" + id;
  order.priority = StringField(resource, "priority");
  if (order.priority.empty()) order.priority = "routine";
  auto code = resource.find("code");
  if (code == resource.end() || !code->is_object()) {
    return Fail(ErrorCode::kInvalidInput, order.reference + " has no code (the test being ordered)");
  }
  const auto& catalogue = knowledge.investigations();
  if (auto codings = code->find("coding"); codings != code->end() && codings->is_array()) {
    for (const auto& coding : *codings) {
      if (!coding.is_object()) continue;
      const std::string system = StringField(coding, "system");
      const std::string value = StringField(coding, "code");
      const std::string display = StringField(coding, "display");
      if (order.display.empty()) order.display = !display.empty() ? display : value;
      std::optional<InvestigationIndex> found;
      if (system == kInvestigationSystem) found = catalogue.FindCode(value);
      if (!found && system == kSnomedSystem && !value.empty()) found = catalogue.Resolve(value);
      if (!found && !display.empty()) found = catalogue.Resolve(display);
      if (found) {
        order.requested = catalogue.at(*found).code;
        order.display = catalogue.at(*found).name;
        break;
      }
    }
  }
  if (!order.requested) {
    const std::string text = StringField(*code, "text");
    if (!text.empty()) {
      if (auto found = catalogue.Resolve(text)) {
        order.requested = catalogue.at(*found).code;
        order.display = catalogue.at(*found).name;
      } else if (order.display.empty()) {
        order.display = text;
      }
    }
  }
  if (order.display.empty()) return Fail(ErrorCode::kInvalidInput, order.reference + ".code has no coding or text");
  if (auto reasons = resource.find("reasonCode"); reasons != resource.end()) {
    if (!reasons->is_array()) return Fail(ErrorCode::kInvalidInput, order.reference + ".reasonCode must be an array");
    for (const auto& reason : *reasons) {
      FindingInput input = FindingFromConcept(knowledge, reason);
      if (!input.text.empty()) order.reasons.push_back(std::move(input));
    }
  }
  return order;
}

}  // namespace dx::cds::hooks
