#include "orders/routes.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "core/nhs_number.hpp"
#include "fhir/outcome.hpp"
#include "fhir/search.hpp"
#include "orders/pathway.hpp"
#include "orders/service_request.hpp"

namespace dx::orders {
namespace {

using nlohmann::json;

constexpr char kRoot[] = "/fhir/ServiceRequest";

std::string Actor(const http::Request& request, const json& body) {
  if (body.is_object() && body.contains("by") && body["by"].is_string()) return body["by"].get<std::string>();
  auto user = request.attributes.find("user");
  return user == request.attributes.end() ? "" : user->second;
}

std::string BaseUrl(const http::Request& request) {
  const auto& host = request.Header("host");
  const auto& proto = request.Header("x-forwarded-proto");
  return fmt::format("{}://{}", proto == "https" ? "https" : "http", host.empty() ? "localhost" : host);
}

http::Response FhirJson(const json& value, int status = 200) {
  http::Response response{status, fhir::kFhirJson, value.dump(), {}};
  return response;
}

// An error of a change, in the protocol of the path: OperationOutcome or problem+json.
http::Response ChangeError(const ErrorInfo& error) {
  const int status = error.code == ErrorCode::kInvalidInput ? 422 : HttpStatus(error.code);
  return http::Response::Problem(status, error.message);
}

int Rank(const std::string& priority) {
  return priority == "two-week-wait" ? 0 : priority == "urgent" ? 1 : 2;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The FHIR status of a search maps to stages.
std::vector<std::string> StagesOf(const std::string& status) {
  if (status == "active") return {"requested", "vetted", "booked", "in-progress", "performed", "reported"};
  if (status == "completed") return {"acknowledged"};
  if (status == "revoked") return {"rejected", "cancelled"};
  return {"-"};  // draft, on-hold, entered-in-error, unknown: none are kept
}

std::optional<std::int64_t> NumberField(const json& body, const char* key) {
  if (!body.contains(key)) return std::nullopt;
  if (body[key].is_number_integer()) return body[key].get<std::int64_t>();
  if (body[key].is_string()) return ParseInstant(body[key].get<std::string>());
  return std::nullopt;
}

json ClockJson(const storage::OrderRecord& order, const std::vector<storage::OrderEvent>& events, std::int64_t now) {
  json list = json::array();
  for (const auto& event : events) {
    json item = {{"event", event.event}, {"at", FormatInstant(event.at)}, {"by", event.actor}};
    if (!event.detail.empty()) item["detail"] = json::parse(event.detail, nullptr, false);
    list.push_back(std::move(item));
  }
  auto days = [](std::int64_t from, std::int64_t to) { return from && to ? (to - from) / 86400.0 : -1.0; };
  const bool waiting = Waiting(order.stage);
  json waits = {{"waiting", waiting},
                {"clock_start", FormatInstant(order.clock_start)},
                {"days_waited", days(order.clock_start, waiting ? now : (order.performed_at ? order.performed_at
                                                                                             : order.ended_at))}};
  if (order.performed_at) waits["request_to_test_days"] = days(order.requested_at, order.performed_at);
  if (order.reported_at) waits["test_to_report_days"] = days(order.performed_at, order.reported_at);
  if (order.acknowledged_at) waits["report_to_acknowledged_days"] = days(order.reported_at, order.acknowledged_at);
  return {{"id", order.id}, {"stage", order.stage}, {"events", list}, {"waits", waits}};
}

}  // namespace

std::string NewAccessionNumber() {
  static constexpr char kDigits[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  std::string number = "DX";
  for (unsigned char byte : bytes) number += kDigits[byte % (sizeof kDigits - 1)];
  return number;
}

void RegisterOrderRoutes(http::Router& router, storage::OrderStore& store, const TestCatalogue& catalogue,
                         audit::AuditTrail& audit, Clock clock) {
  auto pathway = std::make_shared<Pathway>(store);

  router.Add("POST", kRoot, [&catalogue, &audit, clock, pathway](const http::Request& request) {
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return fhir::Outcome(400, "invalid", "the body is not JSON");
    RequestProblem problem;
    auto order = ReadServiceRequest(body, catalogue, clock(), &problem);
    if (!order) {
      audit.Record({"http", "fhir.create", "refused: " + problem.message, {"ServiceRequest"}, ""});
      return fhir::Outcome(422, "invalid", problem.message, problem.location);
    }
    const std::string requester = order->requester;
    auto placed = pathway->Place(std::move(*order), requester);
    if (!placed) throw Error(placed.error());
    audit.Record({"http", "fhir.create", "success",
                  {"ServiceRequest/" + placed->id, "patient:" + placed->nhs_number}, ""});
    http::Response response = FhirJson(WriteServiceRequest(*placed), 201);
    response.headers["Location"] = fmt::format("{}{}/{}/_history/{}", BaseUrl(request), kRoot, placed->id,
                                               placed->version);
    response.headers["ETag"] = fmt::format("W/\"{}\"", placed->version);
    return response;
  });

  // Update: the clinical content of a request not yet vetted; "revoked" cancels one
  // still waiting (statusReason.text is the reason). The patient never changes.
  router.Add("PUT", std::string(kRoot) + "/{id}", [&store, &catalogue, &audit, clock, pathway](
                                                      const http::Request& request) {
    const std::string& id = request.params.at("id");
    json body = json::parse(request.body, nullptr, false);
    if (!body.is_object()) return fhir::Outcome(400, "invalid", "the body is not a JSON object");
    if (body.contains("id") && body["id"] != id) {
      return fhir::Outcome(400, "invalid", fmt::format("the resource's id is not {}", id), "ServiceRequest.id");
    }
    auto found = store.Read(id);
    if (!found) throw Error(found.error());
    if (!*found) return fhir::Outcome(404, "not-found", fmt::format("no ServiceRequest/{}: requests are created by POST", id));
    storage::OrderRecord stored = **found;
    const std::string& match = request.Header("if-match");
    if (!match.empty() && match != fmt::format("W/\"{}\"", stored.version)) {
      return fhir::Outcome(412, "conflict", fmt::format("the request is at version {}, not {}", stored.version, match));
    }
    auto answer = [&](const Result<storage::OrderRecord>& moved, const std::string& what) {
      audit.Record({"http", "fhir.update", moved ? "success " + what : moved.error().message,
                    {"ServiceRequest/" + id, "patient:" + stored.nhs_number}, ""});
      if (!moved) {
        const int status = moved.error().code == ErrorCode::kInvalidInput ? 422 : HttpStatus(moved.error().code);
        return fhir::Outcome(status, status == 409 ? "conflict" : "invalid", moved.error().message);
      }
      http::Response response = FhirJson(WriteServiceRequest(*moved));
      response.headers["ETag"] = fmt::format("W/\"{}\"", moved->version);
      return response;
    };
    // Who: the authenticated user, else the requester (a FHIR resource names no one else).
    std::string actor = Actor(request, json::object());
    if (actor.empty()) actor = stored.requester;
    if (body.value("status", "") == "revoked") {
      Change cancel;
      cancel.kind = Change::Kind::kCancel;
      cancel.actor = actor;
      cancel.at = clock();
      if (auto reason = body.find("statusReason"); reason != body.end() && reason->is_object()) {
        cancel.reason = reason->value("text", "");
      }
      return answer(pathway->Move(id, cancel), "cancelled");
    }
    RequestProblem problem;
    auto parsed = ReadServiceRequest(body, catalogue, clock(), &problem);
    if (!parsed) {
      audit.Record({"http", "fhir.update", "refused: " + problem.message, {"ServiceRequest/" + id}, ""});
      return fhir::Outcome(422, "invalid", problem.message, problem.location);
    }
    if (parsed->nhs_number != stored.nhs_number) {
      return fhir::Outcome(422, "invalid", "a request cannot move to another patient: place a new one",
                           "ServiceRequest.subject");
    }
    if (stored.stage != stage::kRequested) {
      return fhir::Outcome(409, "conflict", fmt::format("a request that is {} cannot be changed, only cancelled "
                                                        "(status revoked) while it waits", stored.stage));
    }
    storage::OrderRecord updated = stored;
    for (auto field : {&storage::OrderRecord::patient_name, &storage::OrderRecord::birth_date, &storage::OrderRecord::sex,
                       &storage::OrderRecord::requester, &storage::OrderRecord::practice,
                       &storage::OrderRecord::performer_site, &storage::OrderRecord::code,
                       &storage::OrderRecord::code_display, &storage::OrderRecord::modality,
                       &storage::OrderRecord::test_group, &storage::OrderRecord::priority,
                       &storage::OrderRecord::activity, &storage::OrderRecord::details}) {
      updated.*field = (*parsed).*field;
    }
    json changed = json::object();
    if (updated.code != stored.code) changed["code"] = {{"from", stored.code}, {"to", updated.code}};
    if (updated.priority != stored.priority) changed["priority"] = {{"from", stored.priority}, {"to", updated.priority}};
    auto saved = store.Update(updated, {id, "updated", clock(), actor, changed.empty() ? "" : changed.dump()});
    if (!saved) throw Error(saved.error());
    if (!*saved) return fhir::Outcome(409, "conflict", "the request changed meanwhile; read it again");
    auto reread = store.Read(id);
    if (!reread || !*reread) throw Error(ErrorCode::kStorage, "the updated request cannot be read back");
    return answer(**reread, "updated");
  });

  router.Add("GET", std::string(kRoot) + "/{id}", [&store, &audit](const http::Request& request) {
    const std::string& id = request.params.at("id");
    auto found = store.Read(id);
    if (!found) throw Error(found.error());
    audit.Record({"http", "fhir.read", *found ? "success" : "not-found",
                  {"ServiceRequest/" + id, *found ? "patient:" + (*found)->nhs_number : ""}, ""});
    if (!*found) return fhir::Outcome(404, "not-found", fmt::format("no ServiceRequest/{}", id));
    http::Response response = FhirJson(WriteServiceRequest(**found));
    response.headers["ETag"] = fmt::format("W/\"{}\"", (*found)->version);
    return response;
  });

  router.Add("GET", kRoot, [&store, &audit](const http::Request& request) {
    storage::OrderSearch search;
    for (const auto& [name, value] : request.query) {
      if (name == "patient.identifier" || name == "subject.identifier") {
        const auto bar = value.find('|');
        const std::string system = bar == std::string::npos ? "" : value.substr(0, bar);
        search.nhs_number = bar == std::string::npos ? value : value.substr(bar + 1);
        if ((bar != std::string::npos && system != fhir::kNhsNumberSystem) || !IsValidNhsNumber(search.nhs_number)) {
          return fhir::Outcome(400, "invalid", fmt::format("{} must be {}|<a valid NHS number>", name, fhir::kNhsNumberSystem),
                               name);
        }
      } else if (name == "status") {
        search.stages = StagesOf(value);
      } else if (name == "requester") {
        search.requester = value;
      } else if (name == "performer") {
        const auto bar = value.find('|');
        search.performer_site = bar == std::string::npos ? value : value.substr(bar + 1);
      } else if (name == "authored") {
        // eq (default), ge, gt, le, lt with a date (the whole day, UTC) or a dateTime.
        const std::string prefix = value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0])) ? value.substr(0, 2) : "eq";
        const std::string when = prefix == "eq" && !std::isalpha(static_cast<unsigned char>(value[0])) ? value : value.substr(2);
        auto start = ParseInstant(when);
        if (!start || (prefix != "eq" && prefix != "ge" && prefix != "gt" && prefix != "le" && prefix != "lt")) {
          return fhir::Outcome(400, "invalid", fmt::format("authored '{}' is not [eq|ge|gt|le|lt] and a date or dateTime", value),
                               name);
        }
        const std::int64_t end = *start + (when.size() == 10 ? 86400 : 1);
        if (prefix == "eq" || prefix == "ge") search.requested_from = *start;
        if (prefix == "gt") search.requested_from = end;
        if (prefix == "eq" || prefix == "le") search.requested_to = end;
        if (prefix == "lt") search.requested_to = *start;
      } else if (name == "_count" || name == "_offset") {
        char* end = nullptr;
        const long number = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || number < 0 || number > 1000) {
          return fhir::Outcome(400, "invalid", fmt::format("{}={} is not a number from 0 to 1000", name, value), name);
        }
        (name == "_count" ? search.count : search.offset) = static_cast<int>(number);
      } else {
        return fhir::Outcome(400, "not-supported", fmt::format("search parameter '{}' is not supported", name), name);
      }
    }
    auto page = store.Search(search);
    if (!page) throw Error(page.error());
    audit.Record({"http", "fhir.search", fmt::format("success total={}", page->total),
                  {"ServiceRequest", search.nhs_number.empty() ? "patient:any" : "patient:" + search.nhs_number}, ""});
    json entries = json::array();
    for (const auto& order : page->orders) {
      entries.push_back({{"fullUrl", fmt::format("{}{}/{}", BaseUrl(request), kRoot, order.id)},
                         {"resource", WriteServiceRequest(order)},
                         {"search", {{"mode", "match"}}}});
    }
    json bundle = {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", page->total}, {"entry", entries}};
    return FhirJson(bundle);
  });

  router.Add("GET", "/orders/vetting", [&store, &audit](const http::Request& request) {
    storage::OrderSearch search;
    search.stages = {stage::kRequested};
    search.count = 1000;
    search.oldest_first = true;
    for (const auto& [name, value] : request.query) {
      if (name == "site") {
        search.performer_site = value;
      } else if (name == "priority") {
        if (value != "routine" && value != "urgent" && value != "two-week-wait") {
          return http::Response::Problem(400, fmt::format("priority '{}' is not routine, urgent or two-week-wait", value));
        }
        search.priority = value;
      } else {
        return http::Response::Problem(400, fmt::format("unknown query parameter '{}': use site or priority", name));
      }
    }
    auto page = store.Search(search);
    if (!page) throw Error(page.error());
    std::stable_sort(page->orders.begin(), page->orders.end(),
                     [](const auto& a, const auto& b) { return Rank(a.priority) < Rank(b.priority); });
    audit.Record({"http", "orders.vetting-queue", fmt::format("success count={}", page->orders.size()),
                  {"site:" + (search.performer_site.empty() ? std::string("any") : search.performer_site)}, ""});
    json items = json::array();
    for (const auto& o : page->orders) {
      const json details = json::parse(o.details, nullptr, false);
      items.push_back({{"id", o.id},
                       {"priority", o.priority},
                       {"code", o.code},
                       {"display", o.code_display},
                       {"site", o.performer_site},
                       {"requested_at", FormatInstant(o.requested_at)},
                       {"nhs_number", o.nhs_number},
                       {"patient_name", o.patient_name},
                       {"indication", details.is_object() && details.contains("reasonCode") ? details["reasonCode"] : json()},
                       {"decision_support",
                        details.is_object() && details.contains("decisionSupport") ? details["decisionSupport"] : json()}});
    }
    return http::Response::Json({{"total", page->total}, {"requests", items}});
  });

  router.Add("GET", "/orders/{id}/clock", [&store, &audit, clock](const http::Request& request) {
    const std::string& id = request.params.at("id");
    auto found = store.Read(id);
    if (!found) throw Error(found.error());
    if (!*found) return http::Response::Problem(404, fmt::format("no request {}", id));
    auto events = store.Events(id);
    if (!events) throw Error(events.error());
    audit.Record({"http", "orders.clock", "success", {"ServiceRequest/" + id, "patient:" + (*found)->nhs_number}, ""});
    return http::Response::Json(ClockJson(**found, *events, clock()));
  });

  router.Add("POST", "/orders/{id}/{action}", [&store, &catalogue, &audit, clock, pathway](const http::Request& request) {
    const std::string& id = request.params.at("id");
    const std::string action = Lower(request.params.at("action"));
    const json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
    if (!body.is_object()) return http::Response::Problem(400, "the body is not a JSON object");
    Change change;
    change.actor = Actor(request, body);
    change.at = clock();
    if (auto at = NumberField(body, "at")) {
      change.at = *at;
    } else if (body.contains("at")) {
      return http::Response::Problem(422, "'at' is not a dateTime with its zone");
    }
    auto text = [&](const char* key) { return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : ""; };
    change.reason = text("reason");
    change.reference = text("reference");
    if (action == "vet") {
      change.kind = Change::Kind::kVet;
      change.decision = text("decision");
      change.protocol = text("protocol");
      if (change.decision == "change") {
        auto test = catalogue.FindCode(text("code"));
        if (!test || !test->orderable) {
          return http::Response::Problem(422, fmt::format("unknown test code '{}' to change to", text("code")));
        }
        change.new_code = test->code;
        change.new_display = test->display;
        change.new_modality = test->modality;
        change.new_test_group = test->test_group;
      }
    } else if (action == "book") {
      change.kind = Change::Kind::kBook;
      change.site = text("site");
      change.station = text("station");
      auto appointment = NumberField(body, "appointment");
      if (!appointment) return http::Response::Problem(422, "booking needs 'appointment', a dateTime with its zone");
      change.appointment = *appointment;
      auto current = store.Read(id);
      if (!current) throw Error(current.error());
      change.accession_number = *current && !(*current)->accession_number.empty() ? (*current)->accession_number
                                                                                   : NewAccessionNumber();
    } else if (action == "perform") {
      change.kind = Change::Kind::kPerform;
    } else if (action == "report") {
      change.kind = Change::Kind::kReport;
    } else if (action == "acknowledge") {
      change.kind = Change::Kind::kAcknowledge;
    } else if (action == "cancel") {
      change.kind = Change::Kind::kCancel;
    } else if (action == "patient-delay") {
      change.kind = Change::Kind::kPatientDelay;
    } else {
      return http::Response::Problem(404, fmt::format("no action '{}': use vet, book, perform, report, acknowledge, cancel "
                                                      "or patient-delay", action));
    }
    auto moved = pathway->Move(id, change);
    audit.Record({change.actor.empty() ? "http" : change.actor, "orders." + action,
                  moved ? "success" : moved.error().message, {"ServiceRequest/" + id}, ""});
    if (!moved) return ChangeError(moved.error());
    return http::Response::Json(WriteServiceRequest(*moved));
  });
}

}  // namespace dx::orders
