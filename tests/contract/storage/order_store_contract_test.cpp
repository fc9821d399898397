// The OrderStore contract, run on SQLite and PostgreSQL: create, read, optimistic
// update, events, search, booked items, accession uniqueness and the clock scan.
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

#include "postgres_test_server.hpp"
#include "storage/postgres/postgres_order_store.hpp"
#include "storage/sqlite/sqlite_order_store.hpp"

namespace dx::storage {
namespace {

struct OrderBackend {
  std::string name;
  std::function<std::unique_ptr<OrderStore>(const std::string& folder)> open;
  bool postgres = false;
};

void PrintTo(const OrderBackend& backend, std::ostream* out) { *out << backend.name; }

std::vector<OrderBackend> OrderBackends() {
  return {{"sqlite",
           [](const std::string& folder) -> std::unique_ptr<OrderStore> {
             auto store = SqliteOrderStore::Open(folder + "/index.sqlite", false);
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           }},
          {"postgres",
           [](const std::string& folder) -> std::unique_ptr<OrderStore> {
             auto store = PostgresOrderStore::Open(pgtest::Conninfo(), false, {2, pgtest::Schema(folder)});
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           },
           true}};
}

class OrderStoreContract : public ::testing::TestWithParam<OrderBackend> {
 protected:
  void SetUp() override {
    folder_ = ::testing::TempDir() + "/order-contract-" + GetParam().name + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    if (GetParam().postgres) {
      DX_REQUIRE_POSTGRES();
    }
    store = GetParam().open(folder_);
    ASSERT_TRUE(store);
  }
  void TearDown() override {
    store.reset();
    if (GetParam().postgres && !pgtest::Conninfo().empty()) pgtest::DropSchema(folder_);
  }
  std::string folder_;
  std::unique_ptr<OrderStore> store;
};

OrderRecord Order(const std::string& id, std::int64_t requested_at) {
  OrderRecord o;
  o.id = id;
  o.nhs_number = "9434765919";
  o.code = "MR-KNEE";
  o.modality = "MR";
  o.test_group = "MRI";
  o.priority = "routine";
  o.stage = "requested";
  o.performer_site = "RXX01";
  o.requester = "G1";
  o.requested_at = o.clock_start = requested_at;
  return o;
}

TEST_P(OrderStoreContract, CreateReadUpdateWithVersions) {
  ASSERT_TRUE(store->Create({Order("a", 100)}, {{"a", "requested", 100, "G1", ""}}));
  auto read = store->Read("a");
  ASSERT_TRUE(read && *read);
  EXPECT_EQ((*read)->version, 1);
  EXPECT_EQ((*read)->code, "MR-KNEE");
  EXPECT_FALSE(store->Create({Order("a", 100)}, {}));  // the id exists

  OrderRecord changed = **read;
  changed.stage = "vetted";
  changed.vetted_at = 200;
  auto updated = store->Update(changed, {"a", "vetted", 200, "rad", "{\"protocol\":\"x\"}"});
  ASSERT_TRUE(updated);
  EXPECT_TRUE(*updated);
  auto stale = store->Update(changed, {"a", "vetted", 201, "rad", ""});  // still version 1
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  auto again = store->Read("a");
  EXPECT_EQ((*again)->version, 2);
  EXPECT_EQ((*again)->stage, "vetted");
  auto events = store->Events("a");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].event, "vetted");
  EXPECT_EQ((*events)[1].detail, "{\"protocol\":\"x\"}");
  EXPECT_FALSE(*store->Read("missing"));
}

TEST_P(OrderStoreContract, AccessionNumbersAreUnique) {
  auto a = Order("a", 100), b = Order("b", 100);
  a.accession_number = "DX1";
  ASSERT_TRUE(store->Create({a}, {}));
  b.accession_number = "DX1";
  auto clash = store->Create({b}, {});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(*store->Read("b"));  // nothing stored
  b.accession_number.clear();
  ASSERT_TRUE(store->Create({b}, {}));
  auto stored_b = **store->Read("b");
  stored_b.accession_number = "DX1";
  EXPECT_FALSE(store->Update(stored_b, {"b", "booked", 1, "x", ""}));
  EXPECT_EQ((**store->FindByAccession("DX1")).id, "a");
}

TEST_P(OrderStoreContract, SearchBookedAndScan) {
  std::vector<OrderRecord> orders;
  for (int i = 0; i < 10; ++i) {
    auto o = Order("o" + std::to_string(i), 1000 + i);
    if (i % 2) o.performer_site = "RYY02";
    if (i == 3) o.nhs_number = "9000000009";
    if (i >= 7) {
      o.stage = "booked";
      o.booked_site = o.performer_site;
      o.booked_for = 5000 - i;
      o.accession_number = "DX" + std::to_string(i);
    }
    orders.push_back(o);
  }
  ASSERT_TRUE(store->Create(orders, {}));
  OrderSearch by_patient;
  by_patient.nhs_number = "9000000009";
  EXPECT_EQ(store->Search(by_patient)->total, 1);
  OrderSearch page;
  page.performer_site = "RXX01";
  page.count = 2;
  page.offset = 1;
  auto found = store->Search(page);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->total, 5);
  ASSERT_EQ(found->orders.size(), 2u);
  EXPECT_EQ(found->orders[0].id, "o6");  // newest first: o8, o6, o4...
  OrderSearch stages;
  stages.stages = {"booked"};
  stages.requested_from = 1008;
  EXPECT_EQ(store->Search(stages)->total, 2);
  auto booked = store->Booked({"", "MR", 0, 0, "", ""});
  ASSERT_TRUE(booked);
  ASSERT_EQ(booked->size(), 3u);
  EXPECT_EQ((*booked)[0].id, "o9");  // earliest appointment first
  EXPECT_EQ(store->Booked({"RYY02", "", 0, 0, "", ""})->size(), 2u);
  EXPECT_EQ(store->Booked({"", "CT", 0, 0, "", ""})->size(), 0u);
  EXPECT_EQ(store->Booked({"", "", 4992, 4993, "", ""})->size(), 1u);
  EXPECT_EQ(store->Booked({"", "", 0, 0, "DX8", ""})->size(), 1u);
  EXPECT_EQ(store->Booked({"", "", 0, 0, "DX1", ""})->size(), 0u);  // not booked
  EXPECT_EQ(store->Booked({"", "", 0, 0, "", orders[8].nhs_number})->size(), 3u);
  EXPECT_EQ(store->Booked({"", "", 0, 0, "", "9000000009"})->size(), 0u);
  // An in-progress request stays on the worklist; a performed one leaves it.
  auto started = *store->Read("o9");
  started->stage = "in-progress";
  ASSERT_TRUE(*store->Update(*started, {"o9", "in-progress", 5000, "CT01", ""}));
  auto done = *store->Read("o8");
  done->stage = "performed";
  ASSERT_TRUE(*store->Update(*done, {"o8", "performed", 5000, "CT01", ""}));
  EXPECT_EQ(store->Booked({"", "MR", 0, 0, "", ""})->size(), 2u);
  int scanned = 0, planned = 0;
  ASSERT_TRUE(store->ScanClocks([&](const OrderClock& clock) {
    ++scanned;
    EXPECT_EQ(clock.test_group, "MRI");
    planned += clock.activity == "planned";
  }));
  EXPECT_EQ(scanned, 10);
  EXPECT_EQ(planned, 0);
}

TEST_P(OrderStoreContract, ActivityIsKept) {
  auto o = Order("a1", 1000);
  o.activity = "planned";
  ASSERT_TRUE(store->Create({o, Order("a2", 1001)}, {}));
  EXPECT_EQ((*store->Read("a1"))->activity, "planned");
  EXPECT_EQ((*store->Read("a2"))->activity, "waiting-list");
  auto changed = **store->Read("a2");
  changed.activity = "unscheduled";
  ASSERT_TRUE(*store->Update(changed, {"a2", "updated", 1100, "x", ""}));
  EXPECT_EQ((*store->Read("a2"))->activity, "unscheduled");
  int planned = 0, unscheduled = 0;
  ASSERT_TRUE(store->ScanClocks([&](const OrderClock& clock) {
    planned += clock.activity == "planned";
    unscheduled += clock.activity == "unscheduled";
  }));
  EXPECT_EQ(planned, 1);
  EXPECT_EQ(unscheduled, 1);
}

TEST_P(OrderStoreContract, ProcedureStepsWithVersions) {
  ProcedureStep step;
  step.uid = "1.2.826.0.1.3680043.2.1";
  step.status = "IN PROGRESS";
  step.order_id = "o1";
  step.station_ae = "CT01";
  step.started_at = 5000;
  step.attributes = R"({"00400252":{"vr":"CS","Value":["IN PROGRESS"]}})";
  ASSERT_TRUE(store->CreateStep(step));
  auto again = store->CreateStep(step);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(*store->ReadStep("1.2.3.4"));
  auto read = *store->ReadStep(step.uid);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->version, 1);
  EXPECT_EQ(read->status, "IN PROGRESS");
  EXPECT_EQ(read->order_id, "o1");
  EXPECT_EQ(read->station_ae, "CT01");
  EXPECT_EQ(read->started_at, 5000);
  EXPECT_EQ(read->attributes, step.attributes);
  ProcedureStep completed = *read;
  completed.status = "COMPLETED";
  completed.ended_at = 5600;
  ASSERT_TRUE(*store->UpdateStep(completed));
  EXPECT_FALSE(*store->UpdateStep(completed));  // stale version
  read = *store->ReadStep(step.uid);
  EXPECT_EQ(read->version, 2);
  EXPECT_EQ(read->status, "COMPLETED");
  EXPECT_EQ(read->ended_at, 5600);
}

INSTANTIATE_TEST_SUITE_P(Backends, OrderStoreContract, ::testing::ValuesIn(OrderBackends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dx::storage
