#include "cds/hooks/service.hpp"

#include <charconv>
#include <ctime>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "cds/evaluator.hpp"
#include "cds/hooks/cards.hpp"
#include "cds/hooks/fhir_input.hpp"
#include "cds/json.hpp"
#include "fhir/outcome.hpp"
#include "core/uid.hpp"

namespace dx::cds::hooks {
namespace {

using nlohmann::json;

using fhir::Outcome;

// The request body as JSON, or the OperationOutcome to answer with.
std::variant<json, http::Response> ParseBody(const http::Request& request) {
  if (request.body.empty()) return Outcome(400, "required", "the request has no body; a JSON object is expected");
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return Outcome(400, "structure", "the body is not valid JSON");
  if (!body.is_object()) return Outcome(400, "structure", "the body must be a JSON object");
  return body;
}

std::string IsoTime(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::chrono::year_month_day DateOf(std::chrono::system_clock::time_point when) {
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(when)};
}

std::string RulesJson(const cds::Outcome& outcome) {
  json rules = json::array();
  for (const Rule* rule : outcome.matched_rules) rules.push_back({{"id", rule->id}, {"version", rule->version}});
  return rules.dump();
}

json ConsultationToJson(const storage::Consultation& c) {
  auto parsed = [](const std::string& text) {
    json value = json::parse(text, nullptr, false);
    return value.is_discarded() ? json(text) : value;
  };
  json feedback = json::array();
  for (const auto& f : c.feedback) {
    json entry = {{"card", f.card_id},         {"outcome", f.outcome},
                  {"acceptedSuggestions", f.accepted_suggestions},
                  {"outcomeTimestamp", f.outcome_timestamp}, {"receivedAt", f.received_at}};
    if (!f.override_code.empty() || !f.user_comment.empty()) {
      entry["overrideReason"] = {{"reason", {{"system", f.override_system}, {"code", f.override_code},
                                             {"display", f.override_display}}},
                                 {"userComment", f.user_comment}};
    }
    feedback.push_back(std::move(entry));
  }
  return {{"id", c.id},           {"created", c.created_at},
          {"channel", c.channel}, {"hookInstance", c.hook_instance},
          {"user", c.user},       {"patient", c.patient},
          {"order", c.order},     {"requested", c.requested},
          {"verdict", c.verdict}, {"topRecommendation", c.top_recommendation},
          {"cards", c.card_ids},  {"rules", parsed(c.rules_json)},
          {"input", parsed(c.input_json)}, {"outcome", parsed(c.outcome_json)},
          {"feedback", std::move(feedback)}};
}

std::string OptionalString(const json& object, const char* key, const std::string& where, bool required,
                           std::string& error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) error = fmt::format("{}.{} is required", where, key);
    return {};
  }
  if (!it->is_string()) {
    error = fmt::format("{}.{} must be a string", where, key);
    return {};
  }
  return it->get<std::string>();
}

}  // namespace

CdsService::CdsService(const KnowledgeBase& knowledge, storage::ConsultationStore& consultations,
                       audit::AuditTrail& audit, Clock now)
    : knowledge_(knowledge), consultations_(consultations), audit_(audit), now_(std::move(now)) {}

void CdsService::RegisterRoutes(http::Router& router) {
  router.Add("GET", "/cds-services", [this](const http::Request&) { return Discovery(); });
  router.Add("POST", std::string("/cds-services/") + kOrderSelectService,
             [this](const http::Request& request) { return CallHook(request, "order-select"); });
  router.Add("POST", std::string("/cds-services/") + kOrderSignService,
             [this](const http::Request& request) { return CallHook(request, "order-sign"); });
  for (const char* service : {kOrderSelectService, kOrderSignService}) {
    router.Add("POST", std::string("/cds-services/") + service + "/feedback",
               [this](const http::Request& request) { return Feedback(request); });
  }
  router.Add("POST", "/cds/recommend", [this](const http::Request& request) { return Recommend(request); });
  router.Add("GET", "/cds/consultations", [this](const http::Request& request) { return ListConsultations(request); });
  router.Add("GET", "/cds/consultations/{id}", [this](const http::Request& request) { return ReadConsultation(request); });
}

http::Response CdsService::Discovery() const {
  const json prefetch = {{"patient", "Patient/{{context.patientId}}"},
                         {"conditions", "Condition?patient={{context.patientId}}&clinical-status=active"}};
  const std::string usage =
      "Send prefetch.patient (birthDate and gender) and, where there are any, the patient's active Conditions; "
      "the reasons for the test go in ServiceRequest.reasonCode (SNOMED CT). This service does not query fhirServer.";
  json select = {{"hook", "order-select"},
                 {"id", kOrderSelectService},
                 {"title", "Imaging appropriateness (on selection)"},
                 {"description", "Checks a newly selected imaging test against NICE-derived guidance for the "
                                 "patient's age, sex and findings, and suggests the recommended test and urgency."},
                 {"prefetch", prefetch},
                 {"usageRequirements", usage}};
  json sign = select;
  sign["hook"] = "order-sign";
  sign["id"] = kOrderSignService;
  sign["title"] = "Imaging appropriateness (on signing)";
  sign["description"] = "Checks every draft imaging order before it is signed and records the consultation on it.";
  return http::Response::Json({{"services", json::array({select, sign})}});
}

http::Response CdsService::Recommend(const http::Request& request) {
  auto parsed = ParseBody(request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return *failure;
  json body = std::get<json>(std::move(parsed));
  std::string patient, user, order, error;
  if (auto context = body.find("context"); context != body.end()) {
    if (!context->is_object()) return Outcome(400, "structure", "context must be an object", "context");
    for (const auto& [key, value] : context->items()) {
      if (key != "patient" && key != "user" && key != "order") {
        return Outcome(400, "structure", "context has unknown key '" + key + "'", "context." + key);
      }
    }
    patient = OptionalString(*context, "patient", "context", false, error);
    if (error.empty()) user = OptionalString(*context, "user", "context", false, error);
    if (error.empty()) order = OptionalString(*context, "order", "context", false, error);
    if (!error.empty()) return Outcome(400, "structure", error, "context");
    body.erase("context");
  }
  auto input = CaseFromJson(body);
  if (!input) return Outcome(400, "invalid", input.error().message);
  const cds::Outcome outcome = Evaluate(knowledge_, *input);
  if (!outcome.ok()) {
    json issues = json::array();
    for (const auto& e : outcome.errors) {
      issues.push_back({{"severity", "error"}, {"code", "invalid"}, {"diagnostics", e.message},
                        {"expression", json::array({e.field})}});
    }
    http::Response response =
        http::Response::Json({{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}}, 422);
    response.content_type = fhir::kFhirJson;
    return response;
  }
  json answer = OutcomeToJson(knowledge_, outcome);
  storage::Consultation record;
  record.id = GenerateUuid();
  record.created_at = IsoTime(now_());
  record.channel = "rest";
  record.user = user;
  record.patient = patient;
  record.order = order;
  record.requested = outcome.verdict && outcome.verdict->investigation ? outcome.verdict->investigation->code : "";
  record.verdict = outcome.verdict ? std::string(ToString(outcome.verdict->verdict)) : "none-requested";
  record.top_recommendation =
      outcome.recommendations.empty() ? "" : outcome.recommendations.front().investigation->code;
  record.rules_json = RulesJson(outcome);
  record.input_json = CaseToJson(*input).dump();
  record.outcome_json = answer.dump();
  auto stored = consultations_.Record(record);
  audit_.Record({user.empty() ? "http" : user, "cds.consult", stored ? "success" : stored.error().message,
                 {"patient:" + patient, "consultation:" + record.id}, ""});
  if (!stored) throw Error(stored.error());
  answer["consultation"] = record.id;
  return http::Response::Json(answer);
}

http::Response CdsService::CallHook(const http::Request& request, const std::string& hook) {
  auto parsed = ParseBody(request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return *failure;
  const json body = std::get<json>(std::move(parsed));
  std::string error;
  const std::string sent_hook = OptionalString(body, "hook", "request", true, error);
  if (!error.empty()) return Outcome(400, "required", error, "hook");
  if (sent_hook != hook) {
    return Outcome(400, "invalid", fmt::format("this service answers the {} hook, not '{}'", hook, sent_hook), "hook");
  }
  const std::string hook_instance = OptionalString(body, "hookInstance", "request", true, error);
  if (!error.empty()) return Outcome(400, "required", error, "hookInstance");
  auto context_it = body.find("context");
  if (context_it == body.end() || !context_it->is_object()) {
    return Outcome(400, "required", "context is required and must be an object", "context");
  }
  const json& context = *context_it;
  const std::string user = OptionalString(context, "userId", "context", true, error);
  if (!error.empty()) return Outcome(400, "required", error, "context.userId");
  const std::string patient_id = OptionalString(context, "patientId", "context", true, error);
  if (!error.empty()) return Outcome(400, "required", error, "context.patientId");
  auto drafts = context.find("draftOrders");
  if (drafts == context.end() || !drafts->is_object() || drafts->value("resourceType", "") != "Bundle") {
    return Outcome(400, "required", "context.draftOrders must be a FHIR Bundle of draft orders", "context.draftOrders");
  }
  std::set<std::string> selections;
  if (hook == "order-select") {
    auto list = context.find("selections");
    if (list == context.end() || !list->is_array() || list->empty()) {
      return Outcome(400, "required", "context.selections must list the newly selected orders", "context.selections");
    }
    for (const auto& item : *list) {
      if (!item.is_string()) return Outcome(400, "invalid", "context.selections entries must be strings", "context.selections");
      selections.insert(item.get<std::string>());
    }
  }
  // Prefetch: the service cannot query fhirServer, so the patient must come with the call (CDS Hooks §Prefetch: 412).
  auto prefetch = body.find("prefetch");
  if (prefetch != body.end() && !prefetch->is_object() && !prefetch->is_null()) {
    return Outcome(400, "structure", "prefetch must be an object", "prefetch");
  }
  const json no_value;
  const json& patient_json = prefetch != body.end() && prefetch->is_object() ? prefetch->value("patient", no_value) : no_value;
  if (patient_json.is_null()) {
    return Outcome(412, "required",
                   "prefetch.patient is required (Patient/{{context.patientId}}); this service does not read from fhirServer",
                   "prefetch.patient");
  }
  const auto now = now_();
  auto patient = PatientFromFhir(patient_json, DateOf(now));
  if (!patient) return Outcome(400, "invalid", patient.error().message, "prefetch.patient");
  const json& conditions_json =
      prefetch->is_object() && prefetch->contains("conditions") ? (*prefetch)["conditions"] : no_value;
  auto conditions = FindingsFromConditions(knowledge_, conditions_json);
  if (!conditions) return Outcome(400, "invalid", conditions.error().message, "prefetch.conditions");

  std::vector<DraftOrder> orders;
  std::set<std::string> seen;
  if (auto entries = drafts->find("entry"); entries != drafts->end()) {
    if (!entries->is_array()) return Outcome(400, "structure", "context.draftOrders.entry must be an array", "context.draftOrders");
    for (const auto& entry : *entries) {
      const json& resource = entry.is_object() ? entry.value("resource", no_value) : no_value;
      if (!resource.is_object()) {
        return Outcome(400, "structure", "every draftOrders entry needs a resource", "context.draftOrders.entry");
      }
      if (resource.value("resourceType", "") != "ServiceRequest") continue;  // medications etc.: not ours
      auto order = DraftOrderFromFhir(knowledge_, resource);
      if (!order) return Outcome(400, "invalid", order.error().message, "context.draftOrders");
      seen.insert(order->reference);
      if (hook == "order-select" && !selections.contains(order->reference)) continue;
      orders.push_back(std::move(*order));
    }
  }
  for (const auto& selection : selections) {
    if (!seen.contains(selection) && selection.rfind("ServiceRequest/", 0) == 0) {
      return Outcome(400, "invalid", "context.selections names " + selection + ", which is not in draftOrders",
                     "context.selections");
    }
  }

  json cards = json::array();
  json actions = json::array();
  const std::string patient_ref = "Patient/" + patient_id;
  for (const auto& order : orders) {
    Case input;
    input.age = patient->age;
    input.sex = patient->sex;
    input.findings = *conditions;
    input.findings.insert(input.findings.end(), order.reasons.begin(), order.reasons.end());
    input.requested = order.requested;
    const cds::Outcome outcome = Evaluate(knowledge_, input);
    storage::Consultation record;
    record.id = GenerateUuid();
    record.created_at = IsoTime(now);
    record.channel = hook;
    record.hook_instance = hook_instance;
    record.user = user;
    record.patient = patient_ref;
    record.order = order.reference;
    record.requested = order.requested.value_or(order.display);
    record.verdict = VerdictWord(order, outcome);
    record.top_recommendation =
        outcome.recommendations.empty() ? "" : outcome.recommendations.front().investigation->code;
    record.rules_json = RulesJson(outcome);
    record.input_json = CaseToJson(input).dump();
    record.outcome_json = OutcomeToJson(knowledge_, outcome).dump();
    json order_cards = CardsForOrder(knowledge_, order, outcome, record.id, record.card_ids);
    auto stored = consultations_.Record(record);
    audit_.Record({user, "cds.consult", stored ? "success verdict=" + record.verdict : stored.error().message,
                   {"patient:" + patient_ref, "order:" + order.reference, "consultation:" + record.id}, ""});
    if (!stored) throw Error(stored.error());
    for (auto& card : order_cards) cards.push_back(std::move(card));
    if (order.requested && outcome.ok()) actions.push_back(ConsultationAction(order, outcome, record.id));
  }
  return http::Response::Json({{"cards", std::move(cards)}, {"systemActions", std::move(actions)}});
}

http::Response CdsService::Feedback(const http::Request& request) {
  auto parsed = ParseBody(request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return *failure;
  const json body = std::get<json>(std::move(parsed));
  auto list = body.find("feedback");
  if (list == body.end() || !list->is_array() || list->empty()) {
    return Outcome(400, "required", "feedback must be a non-empty array", "feedback");
  }
  std::vector<storage::ConsultationFeedback> entries;
  const std::string received = IsoTime(now_());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string where = fmt::format("feedback[{}]", i);
    if (!item.is_object()) return Outcome(400, "structure", where + " must be an object", where);
    std::string error;
    storage::ConsultationFeedback f;
    f.card_id = OptionalString(item, "card", where, true, error);
    if (error.empty()) f.outcome = OptionalString(item, "outcome", where, true, error);
    if (error.empty()) f.outcome_timestamp = OptionalString(item, "outcomeTimestamp", where, true, error);
    if (!error.empty()) return Outcome(400, "required", error, where);
    if (f.outcome != "accepted" && f.outcome != "overridden") {
      return Outcome(400, "invalid", where + ".outcome must be accepted or overridden", where + ".outcome");
    }
    if (auto accepted = item.find("acceptedSuggestions"); accepted != item.end()) {
      if (!accepted->is_array()) return Outcome(400, "structure", where + ".acceptedSuggestions must be an array", where);
      for (const auto& suggestion : *accepted) {
        if (!suggestion.is_object() || !suggestion.contains("id") || !suggestion["id"].is_string()) {
          return Outcome(400, "structure", where + ".acceptedSuggestions entries need an id", where);
        }
        f.accepted_suggestions.push_back(suggestion["id"].get<std::string>());
      }
    }
    if (f.outcome == "accepted" && f.accepted_suggestions.empty() && item.contains("overrideReason")) {
      return Outcome(400, "invalid", where + ": an accepted card cannot carry an overrideReason", where);
    }
    if (auto reason = item.find("overrideReason"); reason != item.end()) {
      if (!reason->is_object()) return Outcome(400, "structure", where + ".overrideReason must be an object", where);
      if (auto coding = reason->find("reason"); coding != reason->end()) {
        if (!coding->is_object()) return Outcome(400, "structure", where + ".overrideReason.reason must be a Coding", where);
        f.override_system = coding->value("system", "");
        f.override_code = coding->value("code", "");
        f.override_display = coding->value("display", "");
      }
      f.user_comment = OptionalString(*reason, "userComment", where + ".overrideReason", false, error);
      if (!error.empty()) return Outcome(400, "structure", error, where);
    }
    f.received_at = received;
    entries.push_back(std::move(f));
  }
  auto stored = consultations_.AddFeedback(entries);
  if (!stored) {
    if (stored.error().code == ErrorCode::kNotFound) return Outcome(404, "not-found", stored.error().message, "feedback");
    throw Error(stored.error());
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    audit_.Record({"cds-hooks", "cds.feedback", "success outcome=" + entries[i].outcome,
                   {"consultation:" + (*stored)[i], "card:" + entries[i].card_id}, ""});
  }
  return http::Response::Json(json::object());
}

http::Response CdsService::ReadConsultation(const http::Request& request) {
  const std::string& id = request.params.at("id");
  auto found = consultations_.Find(id);
  if (!found) throw Error(found.error());
  audit_.Record({"http", "cds.read", *found ? "success" : "not found", {"consultation:" + id}, ""});
  if (!*found) return Outcome(404, "not-found", "no consultation " + id);
  return http::Response::Json(ConsultationToJson(**found));
}

http::Response CdsService::ListConsultations(const http::Request& request) {
  std::string patient;
  int count = 50;
  for (const auto& [key, value] : request.query) {
    if (key == "patient") {
      patient = value;
    } else if (key == "_count") {
      int parsed_count = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed_count);
      if (error != std::errc() || end != value.data() + value.size() || parsed_count < 1 || parsed_count > 1000) {
        return Outcome(400, "invalid", "_count must be a whole number from 1 to 1000", "_count");
      }
      count = parsed_count;
    } else {
      return Outcome(400, "not-supported", "unknown search parameter '" + key + "' (patient, _count)", key);
    }
  }
  auto rows = consultations_.List(patient, count);
  if (!rows) throw Error(rows.error());
  audit_.Record({"http", "cds.search", fmt::format("success matches={}", rows->size()),
                 {patient.empty() ? "patient:*" : "patient:" + patient}, ""});
  json out = json::array();
  for (const auto& row : *rows) out.push_back(ConsultationToJson(row));
  return http::Response::Json({{"consultations", std::move(out)}});
}

}  // namespace dx::cds::hooks
