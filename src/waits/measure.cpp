#include "waits/measure.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace dx::waits {
namespace {

// "YYYY-MM" of a Unix time, by civil-date arithmetic (H. Hinnant's days_from_civil
// inverse): no gmtime or formatting per row, as this runs for every request.
std::string MonthOf(std::int64_t seconds) {
  const std::int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string text = "0000-00";
  text[0] = static_cast<char>('0' + year / 1000 % 10);
  text[1] = static_cast<char>('0' + year / 100 % 10);
  text[2] = static_cast<char>('0' + year / 10 % 10);
  text[3] = static_cast<char>('0' + year % 10);
  text[5] = static_cast<char>('0' + month / 10);
  text[6] = static_cast<char>('0' + month % 10);
  return text;
}

void Count(WaitingCount& count, std::int64_t weeks) {
  ++count.total;
  if (weeks >= 6) ++count.over_six_weeks;
  if (weeks >= 13) ++count.over_thirteen_weeks;
  ++count.bands[std::min<std::int64_t>(weeks, kWeekBands - 1)];
}

// Nearest-rank percentiles of `days` (reordered in place: partial selection, not a sort).
Percentiles Of(std::vector<float>& days) {
  Percentiles p;
  p.count = static_cast<std::int64_t>(days.size());
  if (days.empty()) return p;
  auto rank = [&](double q) {
    const auto index = std::min(static_cast<std::size_t>(std::ceil(q * static_cast<double>(days.size()))) - 1,
                                days.size() - 1);
    std::nth_element(days.begin(), days.begin() + static_cast<std::ptrdiff_t>(index), days.end());
    return static_cast<double>(days[index]);
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p95 = rank(0.95);
  return p;
}

void Add(std::map<std::string, std::vector<float>>& series, const std::string& group, std::int64_t from,
         std::int64_t to) {
  if (!from || !to || to < from) return;
  const float days = static_cast<float>(static_cast<double>(to - from) / 86400.0);
  if (!group.empty()) series[group].push_back(days);  // "" holds every test, DM01 or not
  series[""].push_back(days);
}

}  // namespace

std::int64_t ClockStartAt(const storage::OrderClock& clock, std::int64_t census) {
  return clock.clock_start && clock.clock_start <= census ? clock.clock_start : clock.requested_at;
}

bool WaitingAt(const storage::OrderClock& clock, std::int64_t census) {
  // DM01 counts planned (surveillance) and unscheduled (emergency, inpatient) tests as
  // activity only: they are not on the waiting list.
  if (!clock.activity.empty() && clock.activity != "waiting-list") return false;
  if (clock.requested_at > census) return false;
  if (clock.performed_at && clock.performed_at <= census) return false;
  if (clock.ended_at && clock.ended_at <= census) return false;
  return true;
}

void Summariser::Add(const storage::OrderClock& clock) {
  if (WaitingAt(clock, summary_.census) && !clock.test_group.empty()) {
    const std::int64_t weeks = (summary_.census - ClockStartAt(clock, summary_.census)) / kWeek;
    Count(summary_.all, weeks);
    Count(summary_.by_test_and_site[{clock.test_group, clock.performer_site}], weeks);
  }
  if (clock.performed_at && clock.performed_at <= summary_.census) {
    ++summary_.activity[MonthOf(clock.performed_at)][clock.test_group];
  }
  waits::Add(request_to_test_, clock.test_group, clock.requested_at, clock.performed_at);
  waits::Add(test_to_report_, clock.test_group, clock.performed_at, clock.reported_at);
  waits::Add(report_to_acknowledged_, clock.test_group, clock.reported_at, clock.acknowledged_at);
}

Summary Summariser::Finish() {
  for (auto& [group, days] : request_to_test_) summary_.request_to_test[group] = Of(days);
  for (auto& [group, days] : test_to_report_) summary_.test_to_report[group] = Of(days);
  for (auto& [group, days] : report_to_acknowledged_) summary_.report_to_acknowledged[group] = Of(days);
  return std::move(summary_);
}

Result<Summary> Summarise(storage::OrderStore& store, std::int64_t census) {
  Summariser summariser(census);
  if (auto scanned = store.ScanClocks([&](const storage::OrderClock& clock) { summariser.Add(clock); }); !scanned) {
    return tl::unexpected(scanned.error());
  }
  return summariser.Finish();
}

Result<std::pair<std::int64_t, std::int64_t>> MonthBounds(const std::string& month) {
  int year = 0, number = 0;
  int used = 0;
  if (month.size() != 7 || std::sscanf(month.c_str(), "%4d-%2d%n", &year, &number, &used) != 2 || used != 7 ||
      number < 1 || number > 12 || year < 1900) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("month '{}' is not YYYY-MM", month));
  }
  std::tm start{};
  start.tm_year = year - 1900;
  start.tm_mon = number - 1;
  start.tm_mday = 1;
  std::tm end = start;
  end.tm_mon += 1;  // timegm normalises December + 1
  return std::make_pair(static_cast<std::int64_t>(timegm(&start)), static_cast<std::int64_t>(timegm(&end)));
}

Result<std::string> Dm01Csv(storage::OrderStore& store, const orders::TestCatalogue& catalogue,
                            const std::string& month) {
  auto bounds = MonthBounds(month);
  if (!bounds) return tl::unexpected(bounds.error());
  const auto [start, end] = *bounds;
  const std::int64_t census = end - 1;  // the last second of the month
  struct Row {
    WaitingCount waiting;
    std::int64_t waiting_list = 0, planned = 0, unscheduled = 0;  // tests performed in the month
  };
  std::map<std::pair<std::string, std::string>, Row> rows;  // (site, test group)
  auto scanned = store.ScanClocks([&](const storage::OrderClock& clock) {
    if (clock.test_group.empty()) return;
    if (WaitingAt(clock, census)) {
      Count(rows[{clock.performer_site, clock.test_group}].waiting, (census - ClockStartAt(clock, census)) / kWeek);
    }
    if (clock.performed_at >= start && clock.performed_at < end) {
      Row& row = rows[{clock.performer_site, clock.test_group}];
      ++(clock.activity == "planned" ? row.planned : clock.activity == "unscheduled" ? row.unscheduled : row.waiting_list);
    }
  });
  if (!scanned) return tl::unexpected(scanned.error());

  std::string csv = "Period,Provider Org Code,Diagnostic ID,Diagnostic Tests,Diagnostic Test Category";
  for (int band = 0; band < kWeekBands - 1; ++band) csv += fmt::format(",Number waiting {:02}-{:02} Weeks", band, band + 1);
  csv += ",Number waiting 13+ Weeks,Total Waiting List,Number waiting 6+ Weeks,Number waiting 13+ Weeks (total),"
         "Percentage waiting 6+ Weeks,Waiting List Activity,Planned Activity,Unscheduled Activity,Total Activity\r\n";
  // Sites in order; within a site, the DM01 test order of knowledge/dm01.toml.
  std::vector<std::string> sites;
  for (const auto& [key, row] : rows) {
    if (sites.empty() || sites.back() != key.first) sites.push_back(key.first);
  }
  for (const auto& site : sites) {
    for (const auto& group : catalogue.groups()) {
      auto it = rows.find({site, group.id});
      if (it == rows.end()) continue;
      const Row& row = it->second;
      csv += fmt::format("{},{},{},\"{}\",{}", month, site, group.id, group.name, group.category);
      for (int band = 0; band < kWeekBands; ++band) csv += fmt::format(",{}", row.waiting.bands[band]);
      const double share = row.waiting.total ? 100.0 * static_cast<double>(row.waiting.over_six_weeks) /
                                                   static_cast<double>(row.waiting.total)
                                             : 0.0;
      csv += fmt::format(",{},{},{},{:.1f},{},{},{},{}\r\n", row.waiting.total, row.waiting.over_six_weeks,
                         row.waiting.over_thirteen_weeks, share, row.waiting_list, row.planned, row.unscheduled,
                         row.waiting_list + row.planned + row.unscheduled);
    }
  }
  return csv;
}

}  // namespace dx::waits
