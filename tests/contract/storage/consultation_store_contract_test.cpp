// The ConsultationStore contract (storage/api/consultation_store.hpp),
// parameterised by backend so every adapter runs the same suite.
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <thread>

#include <gtest/gtest.h>

#include "postgres_test_server.hpp"
#include "storage/api/consultation_store.hpp"
#include "storage/postgres/postgres_consultation_store.hpp"
#include "storage/postgres/postgres_index.hpp"
#include "storage/sqlite/sqlite_consultation_store.hpp"
#include "storage/sqlite/sqlite_index.hpp"

namespace dx::storage {
namespace {

struct ConsultationBackend {
  std::string name;
  // Opens the store of the test working in `folder` (as Backend::open does).
  std::function<std::unique_ptr<ConsultationStore>(const std::string& folder)> open;
  bool postgres = false;  // needs DXHUB_TEST_POSTGRES (postgres_test_server.hpp)
};

// Names the backend in test output instead of dumping its bytes.
void PrintTo(const ConsultationBackend& backend, std::ostream* out) { *out << backend.name; }

std::vector<ConsultationBackend> ConsultationBackends() {
  return {{"sqlite",
           [](const std::string& folder) -> std::unique_ptr<ConsultationStore> {
             auto store = SqliteConsultationStore::Open(folder + "/index.sqlite", false);
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           }},
          {"postgres",
           [](const std::string& folder) -> std::unique_ptr<ConsultationStore> {
             auto store = PostgresConsultationStore::Open(pgtest::Conninfo(), false, {4, pgtest::Schema(folder)});
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           },
           true}};
}

Consultation Sample(const std::string& id, const std::string& patient, std::vector<std::string> cards) {
  Consultation c;
  c.id = id;
  c.created_at = "2026-11-23T10:00:00Z";
  c.channel = "order-sign";
  c.hook_instance = "hook-" + id;
  c.user = "Practitioner/gp";
  c.patient = patient;
  c.order = "ServiceRequest/" + id;
  c.requested = "MR-LSPINE";
  c.verdict = "not-appropriate";
  c.top_recommendation = "NO-IMAGING";
  c.rules_json = R"([{"id":"NG59-LBP-NO-IMAGING","version":1}])";
  c.input_json = R"({"age":45,"findings":["low back pain"]})";
  c.outcome_json = R"({"ok":true})";
  c.card_ids = std::move(cards);
  return c;
}

ConsultationFeedback Feedback(const std::string& card, const std::string& outcome) {
  ConsultationFeedback f;
  f.card_id = card;
  f.outcome = outcome;
  f.override_system = "urn:dxhub:cds:override-reason";
  f.override_code = outcome == "overridden" ? "clinical-judgement" : "";
  f.user_comment = outcome == "overridden" ? "seen in clinic" : "";
  f.outcome_timestamp = "2026-11-23T10:05:00Z";
  f.received_at = "2026-11-23T10:05:01Z";
  if (outcome == "accepted") f.accepted_suggestions = {"s-1"};
  return f;
}

class ConsultationStoreContract : public ::testing::TestWithParam<ConsultationBackend> {
 protected:
  void SetUp() override {
    folder_ = ::testing::TempDir() + "/consultation-contract-" + GetParam().name + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    if (GetParam().postgres) {
      DX_REQUIRE_POSTGRES();
    }
    store_ = GetParam().open(folder_);
    ASSERT_TRUE(store_);
  }

  void TearDown() override {
    store_.reset();
    if (GetParam().postgres && !pgtest::Conninfo().empty()) pgtest::DropSchema(folder_);
  }

  std::string folder_;
  std::unique_ptr<ConsultationStore> store_;
};

TEST_P(ConsultationStoreContract, RecordThenFindReturnsEveryField) {
  const Consultation sample = Sample("c1", "Patient/1", {"card-a", "card-b"});
  ASSERT_TRUE(store_->Record(sample));
  auto found = store_->Find("c1");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  const Consultation& c = **found;
  EXPECT_EQ(c.id, sample.id);
  EXPECT_EQ(c.created_at, sample.created_at);
  EXPECT_EQ(c.channel, sample.channel);
  EXPECT_EQ(c.hook_instance, sample.hook_instance);
  EXPECT_EQ(c.user, sample.user);
  EXPECT_EQ(c.patient, sample.patient);
  EXPECT_EQ(c.order, sample.order);
  EXPECT_EQ(c.requested, sample.requested);
  EXPECT_EQ(c.verdict, sample.verdict);
  EXPECT_EQ(c.top_recommendation, sample.top_recommendation);
  EXPECT_EQ(c.rules_json, sample.rules_json);
  EXPECT_EQ(c.input_json, sample.input_json);
  EXPECT_EQ(c.outcome_json, sample.outcome_json);
  EXPECT_EQ(c.card_ids, sample.card_ids);
  EXPECT_TRUE(c.feedback.empty());
  auto missing = store_->Find("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(ConsultationStoreContract, DuplicateIdOrCardIsAConflictAndLeavesNothing) {
  ASSERT_TRUE(store_->Record(Sample("c1", "Patient/1", {"card-a"})));
  auto same_id = store_->Record(Sample("c1", "Patient/2", {"card-z"}));
  ASSERT_FALSE(same_id);
  EXPECT_EQ(same_id.error().code, ErrorCode::kConflict);
  auto same_card = store_->Record(Sample("c2", "Patient/2", {"card-y", "card-a"}));
  ASSERT_FALSE(same_card);
  EXPECT_EQ(same_card.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(*store_->Find("c2"));  // rolled back whole
  EXPECT_EQ((*store_->Find("c1"))->patient, "Patient/1");
  auto card_y = store_->AddFeedback({Feedback("card-y", "accepted")});
  ASSERT_FALSE(card_y);
  EXPECT_EQ(card_y.error().code, ErrorCode::kNotFound);
}

TEST_P(ConsultationStoreContract, FeedbackIsKeptInOrderAndAllOrNothing) {
  ASSERT_TRUE(store_->Record(Sample("c1", "Patient/1", {"card-a"})));
  ASSERT_TRUE(store_->Record(Sample("c2", "Patient/1", {"card-b"})));
  auto ids = store_->AddFeedback({Feedback("card-a", "overridden"), Feedback("card-b", "accepted")});
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, (std::vector<std::string>{"c1", "c2"}));
  auto failed = store_->AddFeedback({Feedback("card-a", "accepted"), Feedback("card-unknown", "accepted")});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
  EXPECT_NE(failed.error().message.find("card-unknown"), std::string::npos);
  const Consultation c1 = **store_->Find("c1");
  ASSERT_EQ(c1.feedback.size(), 1u);  // the failed batch added nothing
  EXPECT_EQ(c1.feedback[0].outcome, "overridden");
  EXPECT_EQ(c1.feedback[0].override_code, "clinical-judgement");
  EXPECT_EQ(c1.feedback[0].user_comment, "seen in clinic");
  EXPECT_EQ(c1.feedback[0].outcome_timestamp, "2026-11-23T10:05:00Z");
  const Consultation c2 = **store_->Find("c2");
  ASSERT_EQ(c2.feedback.size(), 1u);
  EXPECT_EQ(c2.feedback[0].accepted_suggestions, std::vector<std::string>{"s-1"});
}

TEST_P(ConsultationStoreContract, ListIsNewestFirstAndFiltersByPatient) {
  ASSERT_TRUE(store_->Record(Sample("c1", "Patient/1", {})));
  ASSERT_TRUE(store_->Record(Sample("c2", "Patient/2", {})));
  ASSERT_TRUE(store_->Record(Sample("c3", "Patient/1", {"card-c"})));
  ASSERT_TRUE(store_->AddFeedback({Feedback("card-c", "overridden")}));
  auto all = store_->List("", 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "c3");
  EXPECT_EQ((*all)[0].feedback.size(), 1u);
  auto one = store_->List("Patient/1", 1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, "c3");
  EXPECT_TRUE(store_->List("Patient/9", 10)->empty());
}

TEST_P(ConsultationStoreContract, ConcurrentRecordsAllArrive) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto ok = store_->Record(Sample(id, "Patient/c", {"card-" + id}));
        EXPECT_TRUE(ok) << ok.error().message;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto all = store_->List("Patient/c", 1000);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 200u);
}

TEST_P(ConsultationStoreContract, SurvivesReopening) {
  ASSERT_TRUE(store_->Record(Sample("c1", "Patient/1", {"card-a"})));
  ASSERT_TRUE(store_->AddFeedback({Feedback("card-a", "accepted")}));
  store_.reset();
  store_ = GetParam().open(folder_);
  ASSERT_TRUE(store_);
  auto found = store_->Find("c1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->feedback.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsultationStoreContract, ::testing::ValuesIn(ConsultationBackends()),
                         [](const auto& info) { return info.param.name; });

// The consultation tables share the instance index's file: opening both, in
// either order, applies each migration once.
TEST(SqliteConsultationStoreTest, SharesTheIndexFileWithTheInstanceIndex) {
  const std::string folder = ::testing::TempDir() + "/consultation-shared";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  auto store = SqliteConsultationStore::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(store) << store.error().message;
  auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_TRUE((*store)->Record(Sample("c1", "Patient/1", {})));
  auto stats = (*index)->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->instances, 0);
}

// The consultation tables share the PostgreSQL index's schema: opening both at
// once, on a new schema, applies each migration once.
TEST(PostgresConsultationStoreTest, SharesTheSchemaWithTheInstanceIndex) {
  DX_REQUIRE_POSTGRES();
  const std::string folder = ::testing::TempDir() + "/consultation-shared-postgres";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const PostgresOptions options{2, pgtest::Schema(folder)};
  Result<std::unique_ptr<PostgresConsultationStore>> store = Fail(ErrorCode::kInternal, "not opened");
  Result<std::unique_ptr<PostgresIndex>> index = Fail(ErrorCode::kInternal, "not opened");
  std::thread opener([&] { store = PostgresConsultationStore::Open(pgtest::Conninfo(), false, options); });
  index = PostgresIndex::Open(pgtest::Conninfo(), false, options);
  opener.join();
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_TRUE((*store)->Record(Sample("c1", "Patient/1", {})));
  auto stats = (*index)->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->instances, 0);
  EXPECT_TRUE(RunPostgresSql(pgtest::Conninfo(), options.schema,
                             "DO $$BEGIN IF (SELECT COUNT(*) FROM schema_migrations) <>"
                             " (SELECT MAX(version) FROM schema_migrations) THEN"
                             " RAISE EXCEPTION 'migrations recorded more than once'; END IF; END$$"));
  store->reset();
  index->reset();
  pgtest::DropSchema(folder);
}

}  // namespace
}  // namespace dx::storage
