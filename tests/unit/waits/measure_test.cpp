#include "waits/measure.hpp"

#include <gtest/gtest.h>

#include "cds/loader.hpp"
#include "orders/service_request.hpp"

namespace dx::waits {
namespace {

using storage::OrderClock;

// Only the clock scan is used by the measurement.
class ClockStore : public storage::OrderStore {
 public:
  explicit ClockStore(std::vector<OrderClock> clocks) : clocks_(std::move(clocks)) {}
  Result<void> Create(const std::vector<storage::OrderRecord>&, const std::vector<storage::OrderEvent>&) override {
    return Fail(ErrorCode::kUnsupported, "");
  }
  Result<std::optional<storage::OrderRecord>> Read(const std::string&) override { return Fail(ErrorCode::kUnsupported, ""); }
  Result<std::optional<storage::OrderRecord>> FindByAccession(const std::string&) override {
    return Fail(ErrorCode::kUnsupported, "");
  }
  Result<bool> Update(const storage::OrderRecord&, const storage::OrderEvent&) override {
    return Fail(ErrorCode::kUnsupported, "");
  }
  Result<std::vector<storage::OrderEvent>> Events(const std::string&) override { return Fail(ErrorCode::kUnsupported, ""); }
  Result<storage::OrderPage> Search(const storage::OrderSearch&) override { return Fail(ErrorCode::kUnsupported, ""); }
  Result<std::vector<storage::OrderRecord>> Booked(const storage::ScheduledSearch&) override {
    return Fail(ErrorCode::kUnsupported, "");
  }
  Result<void> ScanClocks(const std::function<void(const OrderClock&)>& visit) override {
    for (const auto& clock : clocks_) visit(clock);
    return {};
  }
  Result<void> CreateStep(const storage::ProcedureStep&) override { return Fail(ErrorCode::kUnsupported, ""); }
  Result<std::optional<storage::ProcedureStep>> ReadStep(const std::string&) override {
    return Fail(ErrorCode::kUnsupported, "");
  }
  Result<bool> UpdateStep(const storage::ProcedureStep&) override { return Fail(ErrorCode::kUnsupported, ""); }

 private:
  std::vector<OrderClock> clocks_;
};

constexpr std::int64_t kDay = 86400;
const std::int64_t kCensus = *orders::ParseInstant("2026-10-31T23:59:59Z");

OrderClock Clock(const char* group, const char* site, std::int64_t days_before_census) {
  OrderClock c;
  c.test_group = group;
  c.performer_site = site;
  c.priority = "routine";
  c.stage = "requested";
  c.requested_at = c.clock_start = kCensus - days_before_census * kDay;
  return c;
}

TEST(Waits, WaitingListByWeeksAndTheSixWeekShare) {
  std::vector<OrderClock> clocks = {
      Clock("MRI", "A", 3),    // week 0
      Clock("MRI", "A", 7),    // week 1 (exactly seven days)
      Clock("MRI", "A", 45),   // week 6: over six weeks
      Clock("CT", "B", 100),   // week 14: 13+
      Clock("", "A", 200),     // outside DM01: not on the list
  };
  auto performed = Clock("MRI", "A", 60);
  performed.performed_at = kCensus - 10 * kDay;  // tested before the census: not waiting
  clocks.push_back(performed);
  auto later = Clock("MRI", "A", 60);
  later.performed_at = kCensus + kDay;  // tested after it: still waiting then (week 8)
  clocks.push_back(later);
  auto cancelled = Clock("CT", "B", 20);
  cancelled.ended_at = kCensus - kDay;
  clocks.push_back(cancelled);
  auto restarted = Clock("CT", "B", 90);
  restarted.clock_start = kCensus - 10 * kDay;  // patient cancelled: counts from the restart (week 1)
  clocks.push_back(restarted);
  auto future = Clock("CT", "B", -2);  // requested after the census
  clocks.push_back(future);

  ClockStore store(clocks);
  auto summary = Summarise(store, kCensus);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->all.total, 6);
  EXPECT_EQ(summary->all.over_six_weeks, 3);
  EXPECT_EQ(summary->all.over_thirteen_weeks, 1);
  EXPECT_EQ(summary->all.bands[0], 1);
  EXPECT_EQ(summary->all.bands[1], 2);
  EXPECT_EQ(summary->all.bands[6], 1);
  EXPECT_EQ(summary->all.bands[8], 1);
  EXPECT_EQ(summary->all.bands[13], 1);
  const auto& mri = summary->by_test_and_site.at({"MRI", "A"});
  EXPECT_EQ(mri.total, 4);
  EXPECT_EQ(mri.over_six_weeks, 2);
  EXPECT_EQ(summary->by_test_and_site.at({"CT", "B"}).total, 2);
  EXPECT_EQ(summary->activity.at("2026-10").at("MRI"), 1);  // the one tested before the census
}

TEST(Waits, TurnaroundPercentilesByNearestRank) {
  std::vector<OrderClock> clocks;
  for (int days = 1; days <= 20; ++days) {
    auto c = Clock("CT", "A", 100);
    c.performed_at = c.requested_at + days * kDay;
    c.reported_at = c.performed_at + kDay / 2;
    clocks.push_back(c);
  }
  ClockStore store(clocks);
  auto summary = Summarise(store, kCensus);
  ASSERT_TRUE(summary);
  const auto& all = summary->request_to_test.at("");
  EXPECT_EQ(all.count, 20);
  EXPECT_DOUBLE_EQ(all.p50, 10);
  EXPECT_DOUBLE_EQ(all.p90, 18);
  EXPECT_DOUBLE_EQ(all.p95, 19);
  EXPECT_DOUBLE_EQ(summary->test_to_report.at("CT").p50, 0.5);
  EXPECT_TRUE(summary->report_to_acknowledged.empty());
}

TEST(Waits, Dm01CsvRowsAndColumns) {
  auto knowledge = cds::LoadKnowledgeBase(std::string(DX_SOURCE_DIR) + "/knowledge");
  ASSERT_TRUE(knowledge);
  auto catalogue = orders::TestCatalogue::Load(std::string(DX_SOURCE_DIR) + "/knowledge", *knowledge);
  ASSERT_TRUE(catalogue);
  auto tested = Clock("CT", "B", 40);
  tested.performed_at = kCensus - 5 * kDay;  // in October: activity
  auto planned = Clock("CT", "B", 20);  // planned and unscheduled: activity, never waiting
  planned.activity = "planned";
  planned.performed_at = kCensus - 2 * kDay;
  auto unscheduled = Clock("CT", "B", 1);
  unscheduled.activity = "unscheduled";
  unscheduled.performed_at = kCensus - 1 * kDay;
  auto planned_waiting = Clock("CT", "B", 60);
  planned_waiting.activity = "planned";
  ClockStore store({Clock("MRI", "A", 3), Clock("MRI", "A", 50), Clock("CT", "B", 10), tested, planned, unscheduled,
                    planned_waiting});
  auto csv = Dm01Csv(store, *catalogue, "2026-10");
  ASSERT_TRUE(csv);
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < csv->size();) {
    const auto end = csv->find("\r\n", start);
    lines.push_back(csv->substr(start, end - start));
    start = end + 2;
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("Period,Provider Org Code,Diagnostic ID,Diagnostic Tests,Diagnostic Test Category,"
                           "Number waiting 00-01 Weeks,",
                           0),
            0u);
  EXPECT_EQ(lines[1], "2026-10,A,MRI,\"Magnetic Resonance Imaging\",Imaging,1,0,0,0,0,0,0,1,0,0,0,0,0,0,2,1,0,50.0,0,0,0,0");
  EXPECT_EQ(lines[2], "2026-10,B,CT,\"Computed Tomography\",Imaging,0,1,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0.0,1,1,1,3");
  EXPECT_FALSE(Dm01Csv(store, *catalogue, "2026-13"));
  EXPECT_FALSE(Dm01Csv(store, *catalogue, "October"));
}

}  // namespace
}  // namespace dx::waits
