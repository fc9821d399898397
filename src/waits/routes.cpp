#include "waits/routes.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "orders/service_request.hpp"
#include "waits/measure.hpp"

namespace dx::waits {
namespace {

using nlohmann::json;

json CountJson(const WaitingCount& count) {
  json bands = json::array();
  for (auto band : count.bands) bands.push_back(band);
  return {{"total", count.total},
          {"over_6_weeks", count.over_six_weeks},
          {"over_13_weeks", count.over_thirteen_weeks},
          {"share_over_6_weeks", count.total ? static_cast<double>(count.over_six_weeks) / static_cast<double>(count.total) : 0.0},
          {"by_weeks_waited", bands}};
}

json PercentileJson(const std::map<std::string, Percentiles>& series) {
  json out = json::object();
  for (const auto& [group, p] : series) {
    out[group.empty() ? "all" : group] = {{"count", p.count}, {"p50_days", p.p50}, {"p90_days", p.p90}, {"p95_days", p.p95}};
  }
  return out;
}

}  // namespace

void RegisterWaitsRoutes(http::Router& router, storage::OrderStore& store, const orders::TestCatalogue& catalogue,
                         audit::AuditTrail& audit, std::function<std::int64_t()> clock) {
  router.Add("GET", "/waits/summary", [&store, &catalogue, &audit, clock](const http::Request& request) {
    std::int64_t census = clock();
    for (const auto& [name, value] : request.query) {
      if (name != "at") return http::Response::Problem(400, fmt::format("unknown query parameter '{}': use at", name));
      auto at = orders::ParseInstant(value);
      if (!at) return http::Response::Problem(400, fmt::format("at='{}' is not a date or a dateTime with its zone", value));
      census = value.size() == 10 ? *at + 86399 : *at;  // a date means its end
    }
    auto summary = Summarise(store, census);
    if (!summary) throw Error(summary.error());
    audit.Record({"http", "waits.summary", "success", {"waiting-list"}, ""});
    json by_test = json::array();
    for (const auto& [key, count] : summary->by_test_and_site) {
      const auto* group = catalogue.Group(key.first);
      json item = CountJson(count);
      item["test_group"] = key.first;
      item["test"] = group ? group->name : key.first;
      item["site"] = key.second;
      by_test.push_back(std::move(item));
    }
    json activity = json::object();
    for (const auto& [month, groups] : summary->activity) {
      json counts = json::object();
      for (const auto& [group, count] : groups) counts[group.empty() ? "other" : group] = count;
      activity[month] = counts;
    }
    return http::Response::Json({{"census", orders::FormatInstant(census)},
                                 {"waiting", CountJson(summary->all)},
                                 {"waiting_by_test_and_site", by_test},
                                 {"performed_by_month", activity},
                                 {"turnaround",
                                  {{"request_to_test", PercentileJson(summary->request_to_test)},
                                   {"test_to_report", PercentileJson(summary->test_to_report)},
                                   {"report_to_acknowledged", PercentileJson(summary->report_to_acknowledged)}}}});
  });

  router.Add("GET", "/waits/dm01", [&store, &catalogue, &audit](const http::Request& request) {
    std::string month;
    for (const auto& [name, value] : request.query) {
      if (name != "month") return http::Response::Problem(400, fmt::format("unknown query parameter '{}': use month", name));
      month = value;
    }
    if (month.empty()) return http::Response::Problem(400, "month=YYYY-MM is required");
    auto csv = Dm01Csv(store, catalogue, month);
    if (!csv) {
      if (csv.error().code == ErrorCode::kInvalidInput) return http::Response::Problem(400, csv.error().message);
      throw Error(csv.error());
    }
    audit.Record({"http", "waits.dm01", "success", {"month:" + month}, ""});
    http::Response response{200, "text/csv; charset=utf-8", std::move(*csv), {}};
    response.headers["Content-Disposition"] = fmt::format("attachment; filename=\"dm01-{}.csv\"", month);
    return response;
  });
}

}  // namespace dx::waits
