// The ResultStore contract (storage/api/result_store.hpp), parameterised by
// backend so every adapter runs the same suite.
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "postgres_test_server.hpp"
#include "storage/api/result_store.hpp"
#include "storage/postgres/postgres_result_store.hpp"
#include "storage/sqlite/sqlite_index.hpp"
#include "storage/sqlite/sqlite_result_store.hpp"

namespace dx::storage {
namespace {

struct ResultBackend {
  std::string name;
  std::function<std::unique_ptr<ResultStore>(const std::string& folder)> open;
  bool postgres = false;
};

void PrintTo(const ResultBackend& backend, std::ostream* out) { *out << backend.name; }

std::vector<ResultBackend> ResultBackends() {
  return {{"sqlite",
           [](const std::string& folder) -> std::unique_ptr<ResultStore> {
             auto store = SqliteResultStore::Open(folder + "/index.sqlite", false);
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           }},
          {"postgres",
           [](const std::string& folder) -> std::unique_ptr<ResultStore> {
             auto store = PostgresResultStore::Open(pgtest::Conninfo(), false, {4, pgtest::Schema(folder)});
             EXPECT_TRUE(store) << store.error().message;
             return store ? std::move(*store) : nullptr;
           },
           true}};
}

MessageRecord Message(const std::string& control_id, const std::string& sender = "WINPATH|RBZ") {
  return {sender, control_id, "ORU^R01", "2026-11-23T09:00:00Z", "MSH|^~\\&|WINPATH|RBZ|...|" + control_id};
}

ResourceRecord Report(const std::string& id, const std::string& nhs, const std::string& effective,
                      const std::string& status = "final", bool abnormal = false, bool urgent = false) {
  ResourceRecord r;
  r.type = "DiagnosticReport";
  r.id = id;
  r.nhs_number = nhs;
  r.status = status;
  r.category = "HM";
  r.code = "http://snomed.info/sct|26604007";
  r.effective = effective;
  r.practice = "Y01234";
  r.abnormal = abnormal;
  r.urgent = urgent;
  r.json = R"({"resourceType":"DiagnosticReport","id":")" + id + R"(","status":")" + status + "\"}";
  return r;
}

ResourceRecord Obs(const std::string& id, const std::string& report, const std::string& nhs, const std::string& code,
                   const std::string& effective) {
  ResourceRecord r;
  r.type = "Observation";
  r.id = id;
  r.nhs_number = nhs;
  r.status = "final";
  r.category = "laboratory";
  r.code = code;
  r.effective = effective;
  r.report_id = report;
  r.json = R"({"resourceType":"Observation","id":")" + id + "\"}";
  return r;
}

class ResultStoreContract : public ::testing::TestWithParam<ResultBackend> {
 protected:
  void SetUp() override {
    folder_ = ::testing::TempDir() + "/result-contract-" + GetParam().name + "-" +
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
  // Two patients: a full blood count with two observations, and one U&E report.
  void Seed() {
    ASSERT_TRUE(store_->StoreMessage(Message("m1"), "ACK-1",
                                     {Report("r1", "9434765919", "2026-11-20T09:00:00Z", "final", true),
                                      Obs("r1-1", "r1", "9434765919", "http://loinc.org|718-7", "2026-11-20T09:00:00Z"),
                                      Obs("r1-2", "r1", "9434765919", "http://loinc.org|6690-2",
                                          "2026-11-20T09:00:00Z")}));
    ASSERT_TRUE(store_->StoreMessage(Message("m2"), "ACK-2",
                                     {Report("r2", "9434765919", "2026-11-21T10:00:00Z", "preliminary")}));
    ASSERT_TRUE(store_->StoreMessage(Message("m3"), "ACK-3",
                                     {Report("r3", "4010232137", "2026-10-01T08:00:00Z")}));
  }
  std::vector<std::string> Ids(const ResourceSearch& search) {
    auto page = store_->Search(search);
    EXPECT_TRUE(page) << page.error().message;
    std::vector<std::string> ids;
    if (page) {
      for (const auto& r : page->resources) ids.push_back(r.record.id);
    }
    return ids;
  }
  std::string folder_;
  std::unique_ptr<ResultStore> store_;
};

// A new store gives results ids in the order of their order numbers, and keeps
// that choice once it holds results.
TEST_P(ResultStoreContract, ANewStoreGivesOrderedIdsAndKeepsThem) {
  auto ids = store_->ResourceIdScheme();
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, ResourceIds::kOrdered);
  Seed();
  store_.reset();
  store_ = GetParam().open(folder_);
  ASSERT_TRUE(store_);
  EXPECT_EQ(*store_->ResourceIdScheme(), ResourceIds::kOrdered);
}

TEST_P(ResultStoreContract, StoredResourcesReadBackWithEveryField) {
  Seed();
  auto read = store_->Read("DiagnosticReport", "r1", 0);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_TRUE(*read);
  const auto& r = (*read)->record;
  EXPECT_EQ(r.nhs_number, "9434765919");
  EXPECT_EQ(r.status, "final");
  EXPECT_EQ(r.category, "HM");
  EXPECT_EQ(r.code, "http://snomed.info/sct|26604007");
  EXPECT_EQ(r.effective, "2026-11-20T09:00:00Z");
  EXPECT_EQ(r.practice, "Y01234");
  EXPECT_TRUE(r.abnormal);
  EXPECT_FALSE(r.urgent);
  EXPECT_NE(r.json.find("\"id\":\"r1\""), std::string::npos);
  EXPECT_EQ((*read)->version, 1);
  EXPECT_EQ((*read)->last_updated.size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_FALSE(*store_->Read("DiagnosticReport", "nope", 0));
  EXPECT_FALSE(*store_->Read("Observation", "r1", 0));  // ids are per type
}

TEST_P(ResultStoreContract, ARepeatedMessageIsRefusedAndItsAckKept) {
  Seed();
  auto ack = store_->FindAck("WINPATH|RBZ", "m1");
  ASSERT_TRUE(ack);
  ASSERT_TRUE(*ack);
  EXPECT_EQ(**ack, "ACK-1");
  EXPECT_FALSE(*store_->FindAck("OTHERLAB|RBZ", "m1"));  // control ids are per sender
  auto again = store_->StoreMessage(Message("m1"), "ACK-again", {Report("r9", "9434765919", "2026-11-22")});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(*store_->Read("DiagnosticReport", "r9", 0));  // nothing of it stored
  EXPECT_EQ(**store_->FindAck("WINPATH|RBZ", "m1"), "ACK-1");
  EXPECT_TRUE(store_->StoreMessage(Message("m1", "OTHERLAB|RBZ"), "ACK-other", {}));
}

TEST_P(ResultStoreContract, ABatchStoresEachMessageOnceInOneCommit) {
  Seed();
  std::vector<IncomingMessage> batch{
      {Message("b1"), "ACK-b1", {Report("rb1", "9434765919", "2026-11-22T09:00:00Z")}},
      {Message("m1"), "ACK-m1-again", {Report("rb-dup", "9434765919", "2026-11-22T09:00:00Z")}},  // stored before
      {Message("b2"), "ACK-b2", {Report("rb2", "4010232137", "2026-11-22T09:00:00Z")}},
      {Message("b1"), "ACK-b1-again", {Report("rb1-dup", "9434765919", "2026-11-22T09:00:00Z")}},  // earlier in the batch
  };
  auto outcomes = store_->StoreMessages(batch);
  ASSERT_TRUE(outcomes) << outcomes.error().message;
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_TRUE((*outcomes)[0].stored);
  EXPECT_FALSE((*outcomes)[1].stored);
  EXPECT_EQ((*outcomes)[1].earlier_ack, "ACK-1");
  EXPECT_TRUE((*outcomes)[2].stored);
  EXPECT_FALSE((*outcomes)[3].stored);
  EXPECT_EQ((*outcomes)[3].earlier_ack, "ACK-b1");
  EXPECT_TRUE(*store_->Read("DiagnosticReport", "rb1", 0));
  EXPECT_TRUE(*store_->Read("DiagnosticReport", "rb2", 0));
  EXPECT_FALSE(*store_->Read("DiagnosticReport", "rb-dup", 0));
  EXPECT_FALSE(*store_->Read("DiagnosticReport", "rb1-dup", 0));
}

TEST_P(ResultStoreContract, ACorrectionIsANewVersionAndHistoryIsKept) {
  Seed();
  auto corrected = Report("r1", "9434765919", "2026-11-20T09:00:00Z", "corrected", true, true);
  corrected.json = R"({"resourceType":"DiagnosticReport","id":"r1","status":"corrected"})";
  ASSERT_TRUE(store_->StoreMessage(Message("m4"), "ACK-4", {corrected}));
  auto current = store_->Read("DiagnosticReport", "r1", 0);
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ((*current)->record.status, "corrected");
  auto first = store_->Read("DiagnosticReport", "r1", 1);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->version, 1);
  EXPECT_EQ((*first)->record.status, "final");
  EXPECT_NE((*first)->record.json.find("\"final\""), std::string::npos);
  EXPECT_FALSE(*store_->Read("DiagnosticReport", "r1", 3));
  auto history = store_->History("DiagnosticReport", "r1");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, 2);
  EXPECT_EQ((*history)[1].version, 1);
  EXPECT_TRUE(store_->History("DiagnosticReport", "nope")->empty());
}

TEST_P(ResultStoreContract, AResourceStoredTwiceInOneCommitGetsTwoVersions) {
  auto first = Report("rt", "9434765919", "2026-11-20T09:00:00Z", "preliminary");
  auto second = Report("rt", "9434765919", "2026-11-20T09:00:00Z", "final");
  auto third = Report("rt", "9434765919", "2026-11-20T09:00:00Z", "corrected");
  std::vector<IncomingMessage> batch{
      {Message("t1"), "ACK-t1", {first, second}},  // twice in one message
      {Message("t2"), "ACK-t2", {third}},          // and again in the next message of the batch
  };
  auto outcomes = store_->StoreMessages(batch);
  ASSERT_TRUE(outcomes) << outcomes.error().message;
  EXPECT_TRUE((*outcomes)[0].stored);
  EXPECT_TRUE((*outcomes)[1].stored);
  auto history = store_->History("DiagnosticReport", "rt");
  ASSERT_TRUE(history);
  std::vector<std::string> versions;
  for (const auto& v : *history) versions.push_back(std::to_string(v.version) + ":" + v.record.status);
  EXPECT_EQ(versions, (std::vector<std::string>{"3:corrected", "2:final", "1:preliminary"}));
  ResourceSearch search;
  search.type = "DiagnosticReport";
  auto page = store_->Search(search);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 1);  // one resource, whatever its versions
}

TEST_P(ResultStoreContract, SearchFiltersSortsAndPages) {
  Seed();
  ResourceSearch reports;
  reports.type = "DiagnosticReport";
  EXPECT_EQ(Ids(reports), (std::vector<std::string>{"r2", "r1", "r3"}));  // newest first
  reports.sort_descending = false;
  EXPECT_EQ(Ids(reports), (std::vector<std::string>{"r3", "r1", "r2"}));
  reports.nhs_number = "9434765919";
  EXPECT_EQ(Ids(reports), (std::vector<std::string>{"r1", "r2"}));
  reports.statuses = {"preliminary", "amended"};
  EXPECT_EQ(Ids(reports), (std::vector<std::string>{"r2"}));
  reports.statuses = {};
  reports.effective = {{">=", "2026-11-21"}, {"<", "2026-11-22"}};
  EXPECT_EQ(Ids(reports), (std::vector<std::string>{"r2"}));
  reports.effective = {};
  reports.categories = {"MB"};
  EXPECT_TRUE(Ids(reports).empty());

  ResourceSearch observations;
  observations.type = "Observation";
  observations.codes = {"718-7"};  // a bare code, any system
  EXPECT_EQ(Ids(observations), (std::vector<std::string>{"r1-1"}));
  observations.codes = {"http://loinc.org|6690-2", "http://other|718-7"};
  EXPECT_EQ(Ids(observations), (std::vector<std::string>{"r1-2"}));
  observations.codes = {"%"};  // not a wildcard
  EXPECT_TRUE(Ids(observations).empty());
  observations.codes = {};
  observations.nhs_number = "9434765919";
  observations.sort_descending = false;  // the same time: by id
  EXPECT_EQ(Ids(observations), (std::vector<std::string>{"r1-1", "r1-2"}));

  ResourceSearch paged;
  paged.type = "DiagnosticReport";
  paged.count = 2;
  auto page = store_->Search(paged);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->resources.size(), 2u);
  paged.offset = 2;
  EXPECT_EQ(Ids(paged), (std::vector<std::string>{"r3"}));
  paged.offset = 3;
  EXPECT_TRUE(Ids(paged).empty());
  paged.count = 0;  // _count=0: the total only
  paged.offset = 0;
  page = store_->Search(paged);
  EXPECT_EQ(page->total, 3);
  EXPECT_TRUE(page->resources.empty());
}

TEST_P(ResultStoreContract, SearchValuesAreNeverSql) {
  Seed();
  ResourceSearch search;
  search.type = "DiagnosticReport";
  search.nhs_number = "9434765919' OR '1'='1";
  EXPECT_TRUE(Ids(search).empty());
  search.nhs_number = "";
  search.statuses = {"final'); DROP TABLE fhir_resources; --"};
  EXPECT_TRUE(Ids(search).empty());
  search.statuses = {};
  EXPECT_EQ(Ids(search).size(), 3u);
}

TEST_P(ResultStoreContract, InboxPutsNewFirstAndRecordsWhoActed) {
  Seed();
  auto urgent = Report("r4", "4010232137", "2026-11-01T08:00:00Z", "final", true, true);
  ASSERT_TRUE(store_->StoreMessage(Message("m4"), "ACK-4", {urgent}));
  auto inbox = store_->Inbox("Y01234", false, 50);
  ASSERT_TRUE(inbox) << inbox.error().message;
  std::vector<std::string> order;
  for (const auto& e : *inbox) order.push_back(e.report.record.id + ":" + e.state);
  // Urgent, then abnormal, then newest.
  EXPECT_EQ(order, (std::vector<std::string>{"r4:new", "r1:new", "r2:new", "r3:new"}));

  ASSERT_TRUE(store_->Act({"r1", "acknowledged", "Practitioner/G8", "2026-11-23T10:00:00Z", "seen"}));
  ASSERT_TRUE(store_->Act({"r3", "filed", "Practitioner/G8", "2026-11-23T10:01:00Z", ""}));
  auto unknown = store_->Act({"nope", "filed", "Practitioner/G8", "2026-11-23T10:01:00Z", ""});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  inbox = store_->Inbox("Y01234", false, 50);
  ASSERT_EQ(inbox->size(), 2u);
  inbox = store_->Inbox("Y01234", true, 50);
  ASSERT_EQ(inbox->size(), 4u);
  EXPECT_EQ((*inbox)[2].report.record.id, "r1");
  EXPECT_EQ((*inbox)[2].state, "acknowledged");
  EXPECT_EQ((*inbox)[2].actor, "Practitioner/G8");
  EXPECT_EQ((*inbox)[2].acted_at, "2026-11-23T10:00:00Z");
  EXPECT_EQ((*inbox)[2].comment, "seen");
  EXPECT_EQ((*inbox)[3].state, "filed");
  EXPECT_TRUE(store_->Inbox("OTHER", true, 50)->empty());
  EXPECT_EQ(store_->Inbox("Y01234", true, 1)->size(), 1u);

  // A correction brings an acknowledged report back as new.
  ASSERT_TRUE(store_->StoreMessage(Message("m5"), "ACK-5",
                                   {Report("r1", "9434765919", "2026-11-20T09:00:00Z", "corrected", true)}));
  inbox = store_->Inbox("Y01234", false, 50);
  std::set<std::string> fresh;
  for (const auto& e : *inbox) fresh.insert(e.report.record.id);
  EXPECT_EQ(fresh, (std::set<std::string>{"r4", "r1", "r2"}));
}

TEST_P(ResultStoreContract, UrgentReportsRaiseNotificationsUntilAcknowledged) {
  Seed();
  EXPECT_TRUE(store_->Notifications("Y01234", true)->empty());
  ASSERT_TRUE(store_->StoreMessage(Message("m4"), "ACK-4",
                                   {Report("r4", "4010232137", "2026-11-01T08:00:00Z", "final", true, true)}));
  auto raised = store_->Notifications("Y01234", false);
  ASSERT_TRUE(raised) << raised.error().message;
  ASSERT_EQ(raised->size(), 1u);
  EXPECT_EQ((*raised)[0].report_id, "r4");
  EXPECT_EQ((*raised)[0].nhs_number, "4010232137");
  EXPECT_FALSE((*raised)[0].acknowledged);
  EXPECT_FALSE((*raised)[0].reason.empty());
  ASSERT_TRUE(store_->Act({"r4", "acknowledged", "Practitioner/G8", "2026-11-23T10:00:00Z", ""}));
  EXPECT_TRUE(store_->Notifications("Y01234", false)->empty());
  auto all = store_->Notifications("Y01234", true);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].acknowledged);

  // A correction that is still critical raises a new notification, saying so.
  ASSERT_TRUE(store_->StoreMessage(Message("m5"), "ACK-5",
                                   {Report("r4", "4010232137", "2026-11-01T08:00:00Z", "corrected", true, true)}));
  raised = store_->Notifications("Y01234", false);
  ASSERT_TRUE(raised) << raised.error().message;
  ASSERT_EQ(raised->size(), 1u);
  EXPECT_EQ((*raised)[0].report_id, "r4");
  EXPECT_EQ((*raised)[0].reason, "corrected result with a critical value");
}

TEST_P(ResultStoreContract, ConcurrentMessagesAreAllStoredOnce) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Every thread sends the same control ids: each is stored once.
        const std::string id = std::to_string(i);
        auto stored = store_->StoreMessage(Message("c" + id), "ACK-" + id,
                                           {Report("cr" + id, "9434765919", "2026-11-20T09:00:00Z")});
        if (!stored) {
          EXPECT_EQ(stored.error().code, ErrorCode::kConflict) << stored.error().message;
          ++conflicts;
        }
        (void)t;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(conflicts.load(), (kThreads - 1) * kEach);
  ResourceSearch all;
  all.type = "DiagnosticReport";
  all.count = 1000;
  auto page = store_->Search(all);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, kEach);
  for (const auto& r : page->resources) EXPECT_EQ(r.version, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResultStoreContract, ::testing::ValuesIn(ResultBackends()),
                         [](const auto& info) { return info.param.name; });

namespace {
// A new, empty folder under the test's temporary directory.
std::string EmptyFolder(const std::string& name) {
  const std::string folder = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

int PageSizeOf(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* pragma = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &pragma, nullptr);
  const int size = sqlite3_step(pragma) == SQLITE_ROW ? sqlite3_column_int(pragma, 0) : 0;
  sqlite3_finalize(pragma);
  sqlite3_close(db);
  return size;
}
}  // namespace

// The result tables share the instance index's file.
TEST(SqliteResultStoreTest, SharesTheIndexFileWithTheInstanceIndex) {
  const std::string folder = EmptyFolder("result-shared");
  auto store = SqliteResultStore::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(store) << store.error().message;
  auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_TRUE((*store)->StoreMessage(Message("m1"), "ACK", {Report("r1", "9434765919", "2026-11-20")}));
  EXPECT_EQ((*index)->Stats()->instances, 0);
}

// A new file gets 16 KB pages; a file made with SQLite's default 4 KB keeps them
// and works as before.
TEST(SqliteResultStoreTest, NewFilesHaveLargePagesAndOldOnesKeepTheirs) {
  const std::string folder = EmptyFolder("result-pages");
  {
    auto store = SqliteResultStore::Open(folder + "/new.sqlite", true);
    ASSERT_TRUE(store) << store.error().message;
  }
  EXPECT_EQ(PageSizeOf(folder + "/new.sqlite"), 16384);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(std::string(folder + "/old.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA page_size=4096; CREATE TABLE before_us (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    auto store = SqliteResultStore::Open(folder + "/old.sqlite", true);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->StoreMessage(Message("p1"), "ACK", {Report("rp1", "9434765919", "2026-11-20")}));
    EXPECT_TRUE(*(*store)->Read("DiagnosticReport", "rp1", 0));
  }
  EXPECT_EQ(PageSizeOf(folder + "/old.sqlite"), 4096);
}

// A store that held results before ids could be ordered keeps hashed ids, so a
// correction still finds the result it corrects; one that held none gets ordered ids.
TEST(SqliteResultStoreTest, AStoreThatHeldResultsBeforeKeepsHashedIds) {
  const std::string folder = EmptyFolder("result-ids");
  for (const bool held_results : {true, false}) {
    const std::string path = folder + (held_results ? "/held.sqlite" : "/empty.sqlite");
    {
      auto store = SqliteResultStore::Open(path, false);
      ASSERT_TRUE(store) << store.error().message;
      if (held_results) {
        ASSERT_TRUE((*store)->StoreMessage(Message("h1"), "ACK", {Report("rh1", "9434765919", "2026-11-20")}));
      }
    }
    // As the file was before migration 0008.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE results_settings; DELETE FROM schema_migrations WHERE version = 8",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto store = SqliteResultStore::Open(path, false);
    ASSERT_TRUE(store) << store.error().message;
    auto ids = (*store)->ResourceIdScheme();
    ASSERT_TRUE(ids) << ids.error().message;
    EXPECT_EQ(*ids, held_results ? ResourceIds::kHashed : ResourceIds::kOrdered);
  }
}

// SQLite's allocation statistics stay off: counting them takes one mutex for the
// whole process on every allocation, which the applier and the journal thread
// would queue on. With them on, the store's work would show in memory_used.
TEST(SqliteResultStoreTest, SqliteKeepsNoProcessWideMemoryCount) {
  const std::string folder = EmptyFolder("result-memstatus");
  auto store = SqliteResultStore::Open(folder + "/index.sqlite", true);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->StoreMessage(Message("m1"), "ACK", {Report("rm1", "9434765919", "2026-11-20")}));
  EXPECT_TRUE(*(*store)->Read("DiagnosticReport", "rm1", 0));
  EXPECT_EQ(sqlite3_memory_used(), 0);
}

// Resource JSON is stored packed (storage/sqlite/packed_json.hpp), in a fraction of
// its bytes, history included; JSON stored as plain text, as before packing, still
// reads as it is.
TEST(SqliteResultStoreTest, ResourcesAreStoredPackedAndPlainOnesStillRead) {
  const std::string folder = EmptyFolder("result-packed");
  auto store = SqliteResultStore::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(store) << store.error().message;
  auto report = Report("rk1", "9434765919", "2026-11-20");
  report.json = R"({"resourceType":"DiagnosticReport","id":"rk1","status":"final","category":[{"coding":[{"system":)"
                R"("http://terminology.hl7.org/CodeSystem/v2-0074","code":"HM"}]}],"subject":{"identifier":{"system":)"
                R"("https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}})";
  ASSERT_TRUE((*store)->StoreMessage(Message("k1"), "ACK", {report}));
  auto corrected = report;
  corrected.status = "corrected";
  ASSERT_TRUE((*store)->StoreMessage(Message("k2"), "ACK", {corrected}));
  auto plain = Obs("rk1-1", "rk1", "9434765919", "http://loinc.org|718-7", "2026-11-20");
  ASSERT_TRUE((*store)->StoreMessage(Message("k3"), "ACK", {plain}));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(std::string(folder + "/index.sqlite").c_str(), &db), SQLITE_OK);
  auto query = [&](const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sql;
    std::string value = sqlite3_step(statement) == SQLITE_ROW
                            ? reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))
                            : "";
    sqlite3_finalize(statement);
    return value;
  };
  EXPECT_EQ(query("SELECT typeof(json) FROM fhir_resources WHERE id = 'rk1'"), "blob");
  EXPECT_EQ(query("SELECT typeof(json) FROM fhir_history WHERE id = 'rk1'"), "blob");
  EXPECT_LT(std::stoul(query("SELECT length(json) FROM fhir_resources WHERE id = 'rk1'")) * 2, report.json.size());
  // As a store from before packing would have left it.
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE fhir_resources SET json = '" + plain.json + "' WHERE id = 'rk1-1'").c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(query("SELECT typeof(json) FROM fhir_resources WHERE id = 'rk1-1'"), "text");
  sqlite3_close(db);

  auto current = (*store)->Read("DiagnosticReport", "rk1", 0);
  ASSERT_TRUE(current && *current) << (current ? "not found" : current.error().message);
  EXPECT_EQ((*current)->record.json, corrected.json);
  auto first = (*store)->Read("DiagnosticReport", "rk1", 1);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->record.json, report.json);
  auto history = (*store)->History("DiagnosticReport", "rk1");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].record.json, report.json);
  auto old = (*store)->Read("Observation", "rk1-1", 0);
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->record.json, plain.json);
  ResourceSearch search;
  search.type = "DiagnosticReport";
  search.nhs_number = "9434765919";
  search.count = 10;
  auto page = (*store)->Search(search);
  ASSERT_TRUE(page && page->resources.size() == 1);
  EXPECT_EQ(page->resources[0].record.json, corrected.json);
  auto inbox = (*store)->Inbox("Y01234", true, 10);
  ASSERT_TRUE(inbox && inbox->size() == 1);
  EXPECT_EQ((*inbox)[0].report.record.json, corrected.json);
}

// Durable: CommitMessages makes the batch readable; Sync then puts it on disk.
TEST(SqliteResultStoreTest, ADurableStoreCommitsThenSyncs) {
  const std::string folder = EmptyFolder("result-durable");
  auto store = SqliteResultStore::Open(folder + "/index.sqlite", true);
  ASSERT_TRUE(store) << store.error().message;
  auto committed = (*store)->CommitMessages({{Message("d1"), "ACK-d1", {Report("rd1", "9434765919", "2026-11-20")}}});
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_TRUE((*committed)[0].stored);
  EXPECT_TRUE(*(*store)->Read("DiagnosticReport", "rd1", 0));
  EXPECT_TRUE((*store)->Sync());
  EXPECT_TRUE((*store)->Sync());  // nothing new: no work
  ASSERT_TRUE((*store)->StoreMessage(Message("d2"), "ACK-d2", {Report("rd2", "9434765919", "2026-11-21")}));
  ASSERT_TRUE((*store)->Act({"rd1", "filed", "Practitioner/G8", "2026-11-23T10:00:00Z", ""}));
  store->reset();
  auto reopened = SqliteResultStore::Open(folder + "/index.sqlite", true);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_TRUE(*(*reopened)->Read("DiagnosticReport", "rd2", 0));
  EXPECT_EQ((*(*reopened)->Inbox("Y01234", true, 10))[1].state, "filed");
}

// Continuous commits never leave the WAL fully copied, so the store bounds it
// itself: far more is written than the WAL ever holds.
TEST(SqliteResultStoreTest, TheWalStaysBoundedUnderContinuousWrites) {
  const std::string folder = EmptyFolder("result-wal");
  auto store = SqliteResultStore::Open(folder + "/index.sqlite", false, 32 << 20);
  ASSERT_TRUE(store) << store.error().message;
  // Random hexadecimal, so that packing the JSON cannot shrink it much.
  std::mt19937 random(11);
  std::string padding(64 * 1024, '0');
  for (auto& c : padding) c = "0123456789abcdef"[random() % 16];
  std::uintmax_t written = 0;
  for (int batch = 0; batch < 80; ++batch) {
    std::vector<IncomingMessage> messages;
    for (int m = 0; m < 10; ++m) {
      const std::string id = std::to_string(batch) + "-" + std::to_string(m);
      auto report = Report("rw" + id, "9434765919", "2026-11-20");
      report.json = R"({"resourceType":"DiagnosticReport","note":")" + padding + "\"}";
      written += report.json.size();
      messages.push_back({Message("w" + id), "ACK", {report}});
    }
    ASSERT_TRUE((*store)->StoreMessages(messages));
  }
  const auto wal = std::filesystem::file_size(folder + "/index.sqlite-wal");
  EXPECT_GT(written, 48u << 20);
  EXPECT_LT(wal, 40u << 20);  // 32 MiB and the last batch
  EXPECT_TRUE(*(*store)->Read("DiagnosticReport", "rw0-0", 0));
}

}  // namespace
}  // namespace dx::storage
