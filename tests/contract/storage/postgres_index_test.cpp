// PostgreSQL-specific checks of PostgresIndex beyond the shared contract:
// migrations under concurrent opens, a batch that fails part-way, values
// PostgreSQL cannot hold, lost connections, unreachable servers, and query
// plans that use indexes. Needs DXHUB_TEST_POSTGRES (postgres_test_server.hpp).
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "index_seed.hpp"
#include "postgres_test_server.hpp"
#include "storage/postgres/postgres_consultation_store.hpp"
#include "storage/postgres/postgres_index.hpp"

namespace dx::storage {
namespace {

InstanceRecord PgRecord(const std::string& patient, const std::string& study, const std::string& series,
                        const std::string& sop) {
  InstanceRecord r;
  r.patient_id = patient;
  r.patient_name = "DOE^" + patient;
  r.study_instance_uid = study;
  r.study_date = "20260110";
  r.series_instance_uid = series;
  r.modality = "CT";
  r.series_number = "1";
  r.sop_instance_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.instance_number = "1";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.blob_key = "blob/" + sop;
  r.size_bytes = 100;
  r.sha256 = "sha-" + sop;
  r.dicom_json = "{}";
  return r;
}

Query PgStudyQuery(std::vector<Match> matches) {
  Query query;
  query.level = QueryLevel::kStudy;
  query.matches = std::move(matches);
  return query;
}

// Each test works in a schema of its own, dropped at the end.
class PostgresIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DX_REQUIRE_POSTGRES();
    folder_ = ::testing::TempDir() + "/postgres-index-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    options_.schema = pgtest::Schema(folder_);
  }
  void TearDown() override {
    if (!folder_.empty()) pgtest::DropSchema(folder_);
  }

  std::unique_ptr<PostgresIndex> Open(const std::string& conninfo = pgtest::Conninfo()) {
    auto index = PostgresIndex::Open(conninfo, false, options_);
    EXPECT_TRUE(index) << index.error().message;
    return index ? std::move(*index) : nullptr;
  }
  // Runs SQL in the test's schema; a DO block raising an exception makes it fail.
  Result<void> Sql(const std::string& sql) { return RunPostgresSql(pgtest::Conninfo(), options_.schema, sql); }

  std::string folder_;
  PostgresOptions options_;
};

TEST_F(PostgresIndexTest, ConcurrentOpensOnANewSchemaMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      bool ok = false;
      if (i % 2 == 0) {
        auto index = PostgresIndex::Open(pgtest::Conninfo(), false, {1, options_.schema});
        ok = static_cast<bool>(index);
        EXPECT_TRUE(index) << index.error().message;
      } else {
        auto store = PostgresConsultationStore::Open(pgtest::Conninfo(), false, {1, options_.schema});
        ok = static_cast<bool>(store);
        EXPECT_TRUE(store) << store.error().message;
      }
      if (ok) ++opened;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(opened, 6);
  auto once = Sql("DO $$BEGIN IF (SELECT COUNT(*) FROM schema_migrations) <>"
                  " (SELECT MAX(version) FROM schema_migrations)"
                  " OR (SELECT MIN(version) FROM schema_migrations) <> 1 THEN"
                  " RAISE EXCEPTION 'migrations not recorded exactly once'; END IF; END$$");
  EXPECT_TRUE(once) << once.error().message;
}

TEST_F(PostgresIndexTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(Open());
  ASSERT_TRUE(Sql("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')"));
  auto reopened = PostgresIndex::Open(pgtest::Conninfo(), false, options_);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ErrorCode::kStorage);
  EXPECT_NE(reopened.error().message.find("9999"), std::string::npos) << reopened.error().message;
}

// A batch that fails part-way leaves nothing of itself behind: a trigger makes
// the second insert fail.
TEST_F(PostgresIndexTest, FailedBatchIsRolledBack) {
  auto index = Open();
  ASSERT_TRUE(index);
  ASSERT_TRUE(Sql("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
                  " IF NEW.sop_instance_uid = '7.7.7.2' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END$$;"
                  " CREATE TRIGGER poison BEFORE INSERT ON instances FOR EACH ROW EXECUTE FUNCTION poison()"));
  auto result =
      index->InsertBatch({PgRecord("P7", "7.7", "7.7.7", "7.7.7.1"), PgRecord("P7", "7.7", "7.7.7", "7.7.7.2")}, false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kStorage);
  EXPECT_NE(result.error().message.find("poisoned"), std::string::npos) << result.error().message;
  EXPECT_FALSE(index->FindInstance("7.7.7.1")->has_value());
  EXPECT_EQ(index->Stats()->patients, 0);
  EXPECT_EQ(index->Stats()->studies, 0);
  // The connection is usable again afterwards.
  EXPECT_TRUE(index->InsertBatch({PgRecord("P7", "7.7", "7.7.7", "7.7.7.1")}, false));
}

// PostgreSQL text holds neither NUL nor invalid UTF-8 (SQLite stores both): such
// a value is bad input, the whole batch is refused and nothing is stored.
TEST_F(PostgresIndexTest, ValuesPostgresCannotHoldAreInvalidInput) {
  auto index = Open();
  ASSERT_TRUE(index);
  auto bad_utf8 = PgRecord("P1", "1.1", "1.1.1", "1.1.1.2");
  bad_utf8.patient_name = "M\xC3\x28LLER";
  auto result = index->InsertBatch({PgRecord("P0", "1.0", "1.0.1", "1.0.1.1"), bad_utf8}, false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidInput) << result.error().message;
  EXPECT_EQ(result.error().message.find("M\xC3\x28LLER"), std::string::npos);
  auto with_nul = PgRecord("P2", "1.2", "1.2.1", "1.2.1.1");
  with_nul.study_description = std::string("CT\0HEAD", 7);
  auto nul = index->InsertBatch({with_nul}, false);
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(index->Stats()->instances, 0);
  auto search = index->Search(PgStudyQuery({Match{"patient_name", Match::Kind::kWildcard, {"M\xC3\x28*"}}}));
  ASSERT_FALSE(search);
  EXPECT_EQ(search.error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(index->InsertBatch({PgRecord("P0", "1.0", "1.0.1", "1.0.1.1")}, false));
}

// Ranges whose upper bound ends in a multi-byte character stay exact (the bound's
// successor is computed per code point, not per byte).
TEST_F(PostgresIndexTest, RangeBoundsEndingInMultibyteCharacters) {
  auto index = Open();
  ASSERT_TRUE(index);
  std::vector<InstanceRecord> records;
  const std::vector<std::string> descriptions = {"CT \xC3\xA9", "CT \xC3\xA9X", "CT \xC3\xAA", "CT \xF4\x8F\xBF\xBF"};
  for (std::size_t i = 0; i < descriptions.size(); ++i) {
    const std::string n = std::to_string(i);
    auto r = PgRecord("P" + n, "4." + n, "4." + n + ".1", "4." + n + ".1.1");
    r.study_description = descriptions[i];
    records.push_back(r);
  }
  ASSERT_TRUE(index->InsertBatch(records, false));
  auto count = [&](const std::string& low, const std::string& high) {
    auto rows = index->Search(PgStudyQuery({Match{"study_description", Match::Kind::kRange, {low, high}}}));
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? rows->size() : 0u;
  };
  EXPECT_EQ(count("CT \xC3\xA9", "CT \xC3\xA9"), 2u);   // é and éX
  EXPECT_EQ(count("", "CT \xC3\xAA"), 3u);                // up to ê
  EXPECT_EQ(count("CT \xF4\x8F\xBF\xBF", "CT \xF4\x8F\xBF\xBF"), 1u);  // U+10FFFF has no successor
}

// A connection the server drops (restart, idle timeout) is replaced on next use.
TEST_F(PostgresIndexTest, RecoversFromDroppedConnections) {
  const std::string application = "dxtest_reconnect_" + std::to_string(::getpid());
  auto index = Open(pgtest::WithParameter(pgtest::Conninfo(), "application_name", application));
  ASSERT_TRUE(index);
  ASSERT_TRUE(index->InsertBatch({PgRecord("P1", "1.1", "1.1.1", "1.1.1.1")}, false));
  ASSERT_TRUE(RunPostgresSql(pgtest::Conninfo(), "",
                             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
                                 application + "'"));
  // Every pooled connection is gone; each call must still succeed.
  for (int i = 0; i < 8; ++i) {
    auto stats = index->Stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->instances, 1);
  }
  EXPECT_TRUE(index->InsertBatch({PgRecord("P1", "1.1", "1.1.1", "1.1.1.2")}, false));
  EXPECT_EQ(index->Stats()->instances, 2);
}

// The searches QIDO-RS and C-FIND send most must be index lookups, never a
// scan of the studies or patients table.
TEST_F(PostgresIndexTest, KeySearchesUseIndexes) {
  auto index = Open();
  ASSERT_TRUE(index);
  ASSERT_TRUE(seed::SeedStudies(*index, 10000, 2500));
  ASSERT_TRUE(Sql("ANALYZE"));
  const std::vector<Query> queries = {
      PgStudyQuery({Match{"patient_id", Match::Kind::kSingleValue, {"P7"}}}),
      PgStudyQuery({Match{"accession_number", Match::Kind::kSingleValue, {"A7"}}}),
      PgStudyQuery({Match{"patient_name", Match::Kind::kWildcard, {"SURNAME7^*"}}}),
      PgStudyQuery({Match{"patient_name", Match::Kind::kWildcard, {"SURNAME1234^*"}},
                    Match{"study_date", Match::Kind::kRange, {"20250601", ""}}}),
      PgStudyQuery({Match{"study_instance_uid", Match::Kind::kList, {"2.25.1.1", "2.25.1.2"}}}),
      PgStudyQuery({Match{"study_date", Match::Kind::kRange, {"20250301", "20250301"}}}),
  };
  for (const auto& query : queries) {
    auto plan = index->ExplainSearch(query);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->find("Seq Scan on studies"), std::string::npos) << *plan;
    EXPECT_EQ(plan->find("Seq Scan on patients"), std::string::npos) << *plan;
    EXPECT_NE(plan->find("Index"), std::string::npos) << *plan;
  }
}

TEST(PostgresIndexOpen, UnreachableServerIsUnavailable) {
  auto index = PostgresIndex::Open("host=127.0.0.1 port=1 dbname=dxhub connect_timeout=2", false);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(index.error().message.find("cannot connect to PostgreSQL"), std::string::npos) << index.error().message;
}

TEST(PostgresIndexOpen, MalformedConninfoIsInvalidInput) {
  for (const std::string conninfo : {"host=127.0.0.1 nonsense", "postgresql://db.example/dxhub?colour=blue",
                                     "colour=blue", "postgresql://dxhub:s3cret@[::1/dxhub"}) {
    auto index = PostgresIndex::Open(conninfo, false);
    ASSERT_FALSE(index) << conninfo;
    EXPECT_EQ(index.error().code, ErrorCode::kInvalidInput) << conninfo << ": " << index.error().message;
    EXPECT_EQ(index.error().message.find("s3cret"), std::string::npos) << index.error().message;
  }
}

TEST(PostgresIndexOpen, ConninfoRecognised) {
  EXPECT_TRUE(IsPostgresConninfo("postgresql://dxhub@db.example/dxhub"));
  EXPECT_TRUE(IsPostgresConninfo("postgres://db.example/dxhub"));
  EXPECT_TRUE(IsPostgresConninfo("host=db.example dbname=dxhub"));
  EXPECT_FALSE(IsPostgresConninfo("sqlite"));
  EXPECT_FALSE(IsPostgresConninfo(""));
}

}  // namespace
}  // namespace dx::storage
