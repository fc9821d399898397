// SQLite-specific checks of SqliteIndex beyond the shared contract: schema
// migrations, query plans that use indexes, and search latency at 100,000 studies.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "index_seed.hpp"
#include "storage/sqlite/sqlite_index.hpp"

namespace dx::storage {
namespace {

std::string FreshFolder(const std::string& name) {
  const std::string folder = ::testing::TempDir() + "/sqlite-index-" + name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

Match Key(const std::string& column, Match::Kind kind, std::vector<std::string> values) {
  return Match{column, kind, std::move(values)};
}

Query StudyQuery(std::vector<Match> matches) {
  Query query;
  query.level = QueryLevel::kStudy;
  query.matches = std::move(matches);
  return query;
}

TEST(SqliteIndexMigrations, RecordedOnceAndNewerSchemaRefused) {
  const std::string folder = FreshFolder("migrations");
  const std::string path = folder + "/index.sqlite";
  ASSERT_TRUE(SqliteIndex::Open(path, false));
  ASSERT_TRUE(SqliteIndex::Open(path, true));  // reopening applies nothing twice
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*), MIN(version) FROM schema_migrations", -1, &statement, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(statement, 0), 1);
  EXPECT_EQ(sqlite3_column_int(statement, 1), 1);
  sqlite3_finalize(statement);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reopened = SqliteIndex::Open(path, false);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ErrorCode::kStorage);
  EXPECT_NE(reopened.error().message.find("9999"), std::string::npos) << reopened.error().message;
}

TEST(SqliteIndexMigrations, WalJournal) {
  const std::string folder = FreshFolder("wal");
  ASSERT_TRUE(SqliteIndex::Open(folder + "/index.sqlite", false));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((folder + "/index.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

// The searches QIDO-RS and C-FIND send most must be index lookups, never a
// scan of the studies or patients table.
TEST(SqliteIndexPlans, KeySearchesUseIndexes) {
  const std::string folder = FreshFolder("plans");
  auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(index);
  ASSERT_TRUE(seed::SeedStudies(**index, 100));
  const std::vector<Query> queries = {
      StudyQuery({Key("patient_id", Match::Kind::kSingleValue, {"P7"})}),
      StudyQuery({Key("accession_number", Match::Kind::kSingleValue, {"A7"})}),
      StudyQuery({Key("patient_name", Match::Kind::kWildcard, {"SURNAME7^*"})}),
      StudyQuery({Key("patient_name", Match::Kind::kWildcard, {"SURNAME7*"}),
                  Key("study_date", Match::Kind::kRange, {"20250101", "20251231"})}),
      StudyQuery({Key("study_instance_uid", Match::Kind::kList, {"2.25.1.1", "2.25.1.2"})}),
      StudyQuery({Key("study_date", Match::Kind::kRange, {"20250301", "20250302"})}),
      StudyQuery({Key("study_date", Match::Kind::kRange, {"", "20250102"})}),
  };
  for (const auto& query : queries) {
    auto plan = (*index)->ExplainSearch(query);
    ASSERT_TRUE(plan) << plan.error().message;
    // A full scan of studies (s) or patients (p), whether of the table or of an
    // index; "SCAN page" walks the page of at most `limit` rows already chosen.
    for (const char* scan : {"SCAN s\n", "SCAN s ", "SCAN p\n", "SCAN p "}) {
      EXPECT_EQ(plan->find(scan), std::string::npos) << *plan;
    }
    EXPECT_NE(plan->find("USING"), std::string::npos) << *plan;
  }
}

// PS3.4 C-FIND / QIDO-RS latency: with 100,000 studies a PatientID,
// AccessionNumber or PatientName-prefix study search answers in well under 5 ms.
TEST(SqliteIndexPerformance, StudySearchAt100000Studies) {
  const std::string folder = FreshFolder("performance");
  auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(index);
  ASSERT_TRUE(seed::SeedStudies(**index, 100000, 5000));
  ASSERT_EQ((*index)->Stats()->studies, 100000);
  struct Case {
    const char* label;
    Query query;
    std::size_t rows;
  };
  const std::vector<Case> cases = {
      {"PatientID", StudyQuery({Key("patient_id", Match::Kind::kSingleValue, {"P4321"})}), 2},
      {"AccessionNumber", StudyQuery({Key("accession_number", Match::Kind::kSingleValue, {"A98765"})}), 1},
      {"PatientName prefix", StudyQuery({Key("patient_name", Match::Kind::kWildcard, {"SURNAME1234^*"})}), 50},
  };
  for (const auto& c : cases) {
    std::vector<double> millis;
    for (int i = 0; i < 21; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto rows = (*index)->Search(c.query);
      millis.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      ASSERT_TRUE(rows) << rows.error().message;
      ASSERT_EQ(rows->size(), c.rows) << c.label;
    }
    std::sort(millis.begin(), millis.end());
    const double median = millis[millis.size() / 2];
    RecordProperty(c.label, std::to_string(median));
    EXPECT_LT(median, 5.0) << c.label << " took " << median << " ms (median of 21)";
  }
}

}  // namespace
}  // namespace dx::storage
