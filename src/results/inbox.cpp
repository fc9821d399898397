#include "results/inbox.hpp"

#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fhir/routes.hpp"

namespace dx::results {
namespace {

using nlohmann::json;

std::string IsoUtc(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// An ODS organisation code: letters and digits, 3 to 10 of them.
bool ValidPractice(const std::string& code) {
  static const std::regex kOds("[A-Z0-9]{3,10}");
  return std::regex_match(code, kOds);
}

std::string QueryValue(const http::Request& request, const std::string& name) {
  auto it = request.query.find(name);
  return it == request.query.end() ? "" : it->second;
}

json EntryJson(const storage::InboxEntry& entry) {
  const auto& r = entry.report.record;
  json out = {{"report", json::parse(fhir::WithMeta(entry.report))},
              {"nhsNumber", r.nhs_number},
              {"effective", r.effective},
              {"status", r.status},
              {"abnormal", r.abnormal},
              {"urgent", r.urgent},
              {"state", entry.state}};
  if (entry.state != "new") out["handled"] = {{"by", entry.actor}, {"at", entry.acted_at}, {"comment", entry.comment}};
  return out;
}

}  // namespace

void RegisterInboxRoutes(http::Router& router, storage::ResultStore& store, audit::AuditTrail& audit, Clock now) {
  router.Add("GET", "/results/inbox", [&store, &audit](const http::Request& request) {
    const std::string practice = QueryValue(request, "practice");
    if (!ValidPractice(practice)) {
      return http::Response::Problem(400, "practice must be the practice's ODS code (3 to 10 capital letters or digits)");
    }
    const std::string include = QueryValue(request, "include");
    if (!include.empty() && include != "handled") return http::Response::Problem(400, "include may only be 'handled'");
    int count = 100;
    if (const std::string text = QueryValue(request, "_count"); !text.empty()) {
      char* end = nullptr;
      count = static_cast<int>(std::strtol(text.c_str(), &end, 10));
      if (*end != '\0' || count < 1 || count > 1000) return http::Response::Problem(400, "_count must be 1 to 1000");
    }
    auto entries = store.Inbox(practice, include == "handled", count);
    if (!entries) throw Error(entries.error());
    audit.Record({"http", "results.inbox", fmt::format("success reports={}", entries->size()),
                  {"practice:" + practice}, ""});
    json list = json::array();
    for (const auto& entry : *entries) list.push_back(EntryJson(entry));
    return http::Response::Json({{"practice", practice}, {"entries", list}});
  });

  auto act = [&store, &audit, now](const std::string& action) {
    return [&store, &audit, now, action](const http::Request& request) {
      const json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
      if (!body.is_object()) return http::Response::Problem(400, "the body must be a JSON object");
      std::string by;
      if (auto user = request.attributes.find("user"); user != request.attributes.end()) {
        by = user->second;
      } else if (body.contains("by") && body["by"].is_string()) {
        by = body["by"].get<std::string>();
      }
      if (by.empty()) return http::Response::Problem(400, "who is acting is required: \"by\", e.g. \"Practitioner/G1234567\"");
      if (body.contains("comment") && !body["comment"].is_string()) {
        return http::Response::Problem(400, "comment must be a string");
      }
      const std::string report = request.params.at("report");
      storage::InboxAction record{report, action, by, IsoUtc(now()), body.value("comment", "")};
      auto done = store.Act(record);
      audit.Record({by, "results." + action, done ? "success" : done.error().message, {"DiagnosticReport/" + report}, ""});
      if (!done) throw Error(done.error());
      return http::Response::Json({{"report", report}, {"state", action}, {"by", by}, {"at", record.at},
                                   {"comment", record.comment}});
    };
  };
  router.Add("POST", "/results/inbox/{report}/acknowledge", act("acknowledged"));
  router.Add("POST", "/results/inbox/{report}/file", act("filed"));

  router.Add("GET", "/results/notifications", [&store, &audit](const http::Request& request) {
    const std::string practice = QueryValue(request, "practice");
    if (!ValidPractice(practice)) {
      return http::Response::Problem(400, "practice must be the practice's ODS code (3 to 10 capital letters or digits)");
    }
    const std::string include = QueryValue(request, "include");
    if (!include.empty() && include != "acknowledged") {
      return http::Response::Problem(400, "include may only be 'acknowledged'");
    }
    auto raised = store.Notifications(practice, include == "acknowledged");
    if (!raised) throw Error(raised.error());
    audit.Record({"http", "results.notifications", fmt::format("success notifications={}", raised->size()),
                  {"practice:" + practice}, ""});
    json list = json::array();
    for (const auto& n : *raised) {
      list.push_back({{"id", n.id}, {"report", "DiagnosticReport/" + n.report_id}, {"nhsNumber", n.nhs_number},
                      {"raisedAt", n.raised_at}, {"reason", n.reason}, {"acknowledged", n.acknowledged}});
    }
    return http::Response::Json({{"practice", practice}, {"notifications", list}});
  });
}

}  // namespace dx::results
