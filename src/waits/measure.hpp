// Waiting-list measurement from the requests' own clocks (storage::OrderClock):
// who waits at a census time by test, site and weeks waited, the share over the
// six-week standard, tests performed per month, and turnaround percentiles; and
// the DM01-style monthly return. Pure computation over one scan of the store;
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "orders/catalogue.hpp"
#include "storage/api/order_store.hpp"

namespace dx::waits {

inline constexpr int kWeekBands = 14;  // 0-1, 1-2, ... 12-13 weeks, then 13 and over
inline constexpr std::int64_t kWeek = 7 * 86400;

struct WaitingCount {
  std::int64_t total = 0;
  std::int64_t over_six_weeks = 0;
  std::int64_t over_thirteen_weeks = 0;
  std::int64_t bands[kWeekBands] = {};  // by completed weeks waited
};

struct Percentiles {
  std::int64_t count = 0;
  double p50 = 0, p90 = 0, p95 = 0;  // days
};

struct Summary {
  std::int64_t census = 0;
  WaitingCount all;
  std::map<std::pair<std::string, std::string>, WaitingCount> by_test_and_site;  // (test group, site)
  std::map<std::string, std::map<std::string, std::int64_t>> activity;           // month "YYYY-MM" -> test group -> performed
  std::map<std::string, Percentiles> request_to_test;   // by test group, "" for all
  std::map<std::string, Percentiles> test_to_report;
  std::map<std::string, Percentiles> report_to_acknowledged;
};

// Whether the request waits at `census`, and since when its clock runs.
bool WaitingAt(const storage::OrderClock& clock, std::int64_t census);
std::int64_t ClockStartAt(const storage::OrderClock& clock, std::int64_t census);

// Accumulates clocks (fed one by one, as the store streams them) into a Summary.
class Summariser {
 public:
  explicit Summariser(std::int64_t census) { summary_.census = census; }
  void Add(const storage::OrderClock& clock);
  Summary Finish();

 private:
  Summary summary_;
  std::map<std::string, std::vector<float>> request_to_test_, test_to_report_, report_to_acknowledged_;
};

Result<Summary> Summarise(storage::OrderStore& store, std::int64_t census);

// The DM01-style return for the month `month` ("2026-10"): one row per site and
// DM01 test group with anyone waiting at the month's end or tested in it. The
// column layout is in docs/conformance.md. Fails on a malformed month.
Result<std::string> Dm01Csv(storage::OrderStore& store, const orders::TestCatalogue& catalogue, const std::string& month);

// [start, end) of a month "YYYY-MM" in Unix seconds (UTC).
Result<std::pair<std::int64_t, std::int64_t>> MonthBounds(const std::string& month);

}  // namespace dx::waits
