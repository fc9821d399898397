// The InstanceIndex contract (storage/api/instance_index.hpp), parameterised by
// backend so every adapter runs the same suite.
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "postgres_test_server.hpp"
#include "storage/api/instance_index.hpp"
#include "storage/postgres/postgres_index.hpp"
#include "storage/sqlite/sqlite_index.hpp"

namespace dx::storage {
namespace {

struct Backend {
  std::string name;
  // Opens the index of the test working in `folder`: empty the first time, the
  // same data when the test opens it again.
  std::function<std::unique_ptr<InstanceIndex>(const std::string& folder)> open;
  bool postgres = false;  // needs DXHUB_TEST_POSTGRES (postgres_test_server.hpp)
};

// Names the backend in test output instead of dumping its bytes.
void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }

std::vector<Backend> Backends() {
  return {{"sqlite",
           [](const std::string& folder) -> std::unique_ptr<InstanceIndex> {
             auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
             EXPECT_TRUE(index) << index.error().message;
             return index ? std::move(*index) : nullptr;
           }},
          {"postgres",
           [](const std::string& folder) -> std::unique_ptr<InstanceIndex> {
             auto index = PostgresIndex::Open(pgtest::Conninfo(), false, {4, pgtest::Schema(folder)});
             EXPECT_TRUE(index) << index.error().message;
             return index ? std::move(*index) : nullptr;
           },
           true}};
}

InstanceRecord Record(const std::string& patient, const std::string& study, const std::string& series,
                      const std::string& sop) {
  InstanceRecord r;
  r.patient_id = patient;
  r.patient_name = "DOE^" + patient;
  r.patient_birth_date = "19600101";
  r.patient_sex = "F";
  r.study_instance_uid = study;
  r.study_date = "20260110";
  r.study_time = "101500";
  r.accession_number = "ACC-" + study;
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
  r.dicom_json = "{\"00080018\":{\"vr\":\"UI\",\"Value\":[\"" + sop + "\"]}}";
  return r;
}

Match M(const std::string& column, Match::Kind kind, std::vector<std::string> values) {
  return Match{column, kind, std::move(values)};
}

Query Q(QueryLevel level, std::vector<Match> matches) {
  Query q;
  q.level = level;
  q.matches = std::move(matches);
  return q;
}

class InstanceIndexContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    folder_ = ::testing::TempDir() + "/index-contract-" + GetParam().name + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    if (GetParam().postgres) {
      DX_REQUIRE_POSTGRES();
    }
    index_ = GetParam().open(folder_);
    ASSERT_TRUE(index_);
  }

  void TearDown() override {
    index_.reset();
    if (GetParam().postgres && !pgtest::Conninfo().empty()) pgtest::DropSchema(folder_);
  }

  // Three patients; SMITH has two studies (CT, and CT+MR), JONES one (CR).
  void Seed() {
    std::vector<InstanceRecord> records;
    auto a = Record("P1", "1.1", "1.1.1", "1.1.1.1");
    a.patient_name = "SMITH^JOHN";
    a.study_date = "20260105";
    auto a2 = Record("P1", "1.1", "1.1.1", "1.1.1.2");
    a2.patient_name = "SMITH^JOHN";
    a2.study_date = "20260105";
    a2.instance_number = "10";
    auto a3 = Record("P1", "1.1", "1.1.1", "1.1.1.3");
    a3.patient_name = "SMITH^JOHN";
    a3.study_date = "20260105";
    a3.instance_number = "2";
    auto b = Record("P1", "1.2", "1.2.1", "1.2.1.1");
    b.patient_name = "SMITH^JOHN";
    b.study_date = "20260120";
    auto b2 = Record("P1", "1.2", "1.2.2", "1.2.2.1");
    b2.patient_name = "SMITH^JOHN";
    b2.study_date = "20260120";
    b2.modality = "MR";
    b2.series_number = "2";
    auto c = Record("P2", "2.1", "2.1.1", "2.1.1.1");
    c.patient_name = "JONES^ANN";
    c.study_date = "20251231";
    c.modality = "CR";
    c.nhs_number = "9434765919";
    auto d = Record("P3", "3.1", "3.1.1", "3.1.1.1");
    d.patient_name = "SMYTHE^[X]";
    d.study_date = "20260301";
    d.study_time = "235959";
    records = {a, a2, a3, b, b2, c, d};
    auto inserted = index_->InsertBatch(records, false);
    ASSERT_TRUE(inserted) << inserted.error().message;
    for (const auto& result : *inserted) EXPECT_EQ(result.outcome, InsertOutcome::kInserted);
  }

  std::vector<std::string> Studies(std::vector<Match> matches) {
    auto rows = index_->Search(Q(QueryLevel::kStudy, std::move(matches)));
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<std::string> uids;
    if (rows) {
      for (const auto& row : *rows) uids.push_back(row.attributes.study_instance_uid);
    }
    return uids;
  }

  std::string folder_;
  std::unique_ptr<InstanceIndex> index_;
};

using V = std::vector<std::string>;

TEST_P(InstanceIndexContract, InsertThenFind) {
  Seed();
  auto found = index_->FindInstance("1.2.2.1");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->study_instance_uid, "1.2");
  EXPECT_EQ((*found)->series_instance_uid, "1.2.2");
  EXPECT_EQ((*found)->blob_key, "blob/1.2.2.1");
  EXPECT_EQ((*found)->sha256, "sha-1.2.2.1");
  auto missing = index_->FindInstance("9.9");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto stats = index_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->patients, 3);
  EXPECT_EQ(stats->studies, 4);
  EXPECT_EQ(stats->series, 5);
  EXPECT_EQ(stats->instances, 7);
  EXPECT_EQ(stats->bytes, 700u);
}

TEST_P(InstanceIndexContract, DuplicateLeavesRowAndReplaceSwapsIt) {
  Seed();
  auto copy = Record("P1", "1.1", "1.1.1", "1.1.1.1");
  copy.sha256 = "different";
  copy.blob_key = "blob/new";
  auto duplicate = index_->InsertBatch({copy}, false);
  ASSERT_TRUE(duplicate);
  EXPECT_EQ((*duplicate)[0].outcome, InsertOutcome::kDuplicate);
  EXPECT_EQ((*duplicate)[0].previous_sha256, "sha-1.1.1.1");
  EXPECT_EQ((*index_->FindInstance("1.1.1.1"))->sha256, "sha-1.1.1.1");

  auto replaced = index_->InsertBatch({copy}, true);
  ASSERT_TRUE(replaced);
  EXPECT_EQ((*replaced)[0].outcome, InsertOutcome::kReplaced);
  EXPECT_EQ((*replaced)[0].previous_blob_key, "blob/1.1.1.1");
  EXPECT_EQ((*index_->FindInstance("1.1.1.1"))->blob_key, "blob/new");
  EXPECT_EQ(index_->Stats()->instances, 7);  // replaced, not added
  auto rows = index_->Search(Q(QueryLevel::kStudy, {M("study_instance_uid", Match::Kind::kSingleValue, {"1.1"})}));
  ASSERT_TRUE(rows);
  EXPECT_EQ((*rows)[0].study_related_instances, 3);
}

TEST_P(InstanceIndexContract, DuplicateWithinOneBatch) {
  Seed();
  auto good = Record("P9", "9.1", "9.1.1", "9.1.1.1");
  auto result = index_->InsertBatch({good, good}, false);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ((*result)[0].outcome, InsertOutcome::kInserted);
  EXPECT_EQ((*result)[1].outcome, InsertOutcome::kDuplicate);
  EXPECT_EQ(index_->Stats()->instances, 8);
}

TEST_P(InstanceIndexContract, SingleValueAndUniversal) {
  Seed();
  EXPECT_EQ(Studies({M("patient_id", Match::Kind::kSingleValue, {"P1"})}), (V{"1.1", "1.2"}));
  EXPECT_EQ(Studies({M("accession_number", Match::Kind::kSingleValue, {"ACC-2.1"})}), (V{"2.1"}));
  EXPECT_EQ(Studies({}), (V{"2.1", "1.1", "1.2", "3.1"}));  // by date
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"*"})}).size(), 4u);
  EXPECT_TRUE(Studies({M("patient_id", Match::Kind::kSingleValue, {"p1"})}).empty());  // case-sensitive
}

TEST_P(InstanceIndexContract, Wildcards) {
  Seed();
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SMITH*"})}), (V{"1.1", "1.2"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SM?TH*"})}), (V{"1.1", "1.2", "3.1"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SMIT?^*"})}), (V{"1.1", "1.2"}));
  EXPECT_TRUE(Studies({M("patient_name", Match::Kind::kWildcard, {"SMIT?"})}).empty());
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SM*"})}), (V{"1.1", "1.2", "3.1"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"*ANN"})}), (V{"2.1"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SMYTHE^[X*"})}), (V{"3.1"}));  // literal '['
}

TEST_P(InstanceIndexContract, FuzzyNames) {
  Seed();
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kFuzzyName, {"SMITH"})}), (V{"1.1", "1.2"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kFuzzyName, {"JOHN", "SM"})}), (V{"1.1", "1.2"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kFuzzyName, {"ANN"})}), (V{"2.1"}));  // a given name
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kFuzzyName, {"[X"})}), (V{"3.1"}));   // literal '['
  EXPECT_TRUE(Studies({M("patient_name", Match::Kind::kFuzzyName, {"MITH"})}).empty());   // not inside a word
  EXPECT_TRUE(Studies({M("patient_name", Match::Kind::kFuzzyName, {"SMITH", "ANN"})}).empty());
}

TEST_P(InstanceIndexContract, Ranges) {
  Seed();
  EXPECT_EQ(Studies({M("study_date", Match::Kind::kRange, {"20260101", "20260131"})}), (V{"1.1", "1.2"}));
  EXPECT_EQ(Studies({M("study_date", Match::Kind::kRange, {"20260120", ""})}), (V{"1.2", "3.1"}));
  EXPECT_EQ(Studies({M("study_date", Match::Kind::kRange, {"", "20251231"})}), (V{"2.1"}));
  EXPECT_EQ(Studies({M("study_time", Match::Kind::kRange, {"2300", ""})}), (V{"3.1"}));
  EXPECT_EQ(Studies({M("study_time", Match::Kind::kRange, {"", "1015"})}).size(), 3u);  // 101500 is within "1015"
}

TEST_P(InstanceIndexContract, ListsAndModalities) {
  Seed();
  EXPECT_EQ(Studies({M("study_instance_uid", Match::Kind::kList, {"1.2", "2.1", "8.8"})}), (V{"2.1", "1.2"}));
  EXPECT_EQ(Studies({M("modalities_in_study", Match::Kind::kList, {"MR"})}), (V{"1.2"}));
  EXPECT_EQ(Studies({M("modalities_in_study", Match::Kind::kList, {"CR", "MR"})}), (V{"2.1", "1.2"}));
  auto rows = index_->Search(Q(QueryLevel::kStudy, {M("study_instance_uid", Match::Kind::kSingleValue, {"1.2"})}));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].modalities_in_study, "CT\\MR");
  EXPECT_EQ((*rows)[0].study_related_series, 2);
  EXPECT_EQ((*rows)[0].study_related_instances, 2);
}

TEST_P(InstanceIndexContract, EveryLevelWithCountsAndOrder) {
  Seed();
  auto patients = index_->Search(Q(QueryLevel::kPatient, {M("patient_id", Match::Kind::kSingleValue, {"P1"})}));
  ASSERT_TRUE(patients);
  ASSERT_EQ(patients->size(), 1u);
  EXPECT_EQ((*patients)[0].patient_related_studies, 2);
  EXPECT_EQ((*patients)[0].patient_related_series, 3);
  EXPECT_EQ((*patients)[0].patient_related_instances, 5);

  auto nhs = index_->Search(Q(QueryLevel::kPatient, {M("nhs_number", Match::Kind::kSingleValue, {"9434765919"})}));
  ASSERT_TRUE(nhs);
  ASSERT_EQ(nhs->size(), 1u);
  EXPECT_EQ((*nhs)[0].attributes.patient_id, "P2");

  auto series = index_->Search(Q(QueryLevel::kSeries, {M("study_instance_uid", Match::Kind::kSingleValue, {"1.2"})}));
  ASSERT_TRUE(series);
  ASSERT_EQ(series->size(), 2u);
  EXPECT_EQ((*series)[0].attributes.modality, "CT");
  EXPECT_EQ((*series)[1].attributes.modality, "MR");
  EXPECT_EQ((*series)[1].series_related_instances, 1);
  EXPECT_EQ((*series)[1].attributes.patient_name, "SMITH^JOHN");  // upper levels filled

  auto instances =
      index_->Search(Q(QueryLevel::kInstance, {M("series_instance_uid", Match::Kind::kSingleValue, {"1.1.1"})}));
  ASSERT_TRUE(instances);
  ASSERT_EQ(instances->size(), 3u);
  EXPECT_EQ((*instances)[0].attributes.instance_number, "1");  // numeric order: 1, 2, 10
  EXPECT_EQ((*instances)[1].attributes.instance_number, "2");
  EXPECT_EQ((*instances)[2].attributes.instance_number, "10");
}

TEST_P(InstanceIndexContract, LimitAndOffset) {
  Seed();
  Query q = Q(QueryLevel::kStudy, {});
  q.limit = 2;
  q.offset = 1;
  auto rows = index_->Search(q);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].attributes.study_instance_uid, "1.1");
  EXPECT_EQ((*rows)[1].attributes.study_instance_uid, "1.2");
}

TEST_P(InstanceIndexContract, ListInstancesAndJson) {
  Seed();
  auto study = index_->ListInstances(Q(QueryLevel::kStudy, {M("study_instance_uid", Match::Kind::kSingleValue, {"1.2"})}));
  ASSERT_TRUE(study);
  EXPECT_EQ(study->size(), 2u);
  auto patient = index_->ListInstances(Q(QueryLevel::kPatient, {M("patient_id", Match::Kind::kSingleValue, {"P1"})}));
  ASSERT_TRUE(patient);
  EXPECT_EQ(patient->size(), 5u);
  auto json = index_->InstanceJson("1.1", "", "");
  ASSERT_TRUE(json);
  ASSERT_EQ(json->size(), 3u);
  EXPECT_NE((*json)[0].find("1.1.1.1"), std::string::npos);
  EXPECT_EQ(index_->InstanceJson("1.2", "1.2.2", "")->size(), 1u);
  auto one = index_->InstanceJson("1.1", "1.1.1", "1.1.1.2");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_NE((*one)[0].find("1.1.1.2"), std::string::npos);
  EXPECT_TRUE(index_->InstanceJson("1.2", "1.2.2", "1.1.1.2")->empty());  // not in that series
}

TEST_P(InstanceIndexContract, BadQueriesAreErrorsAndInjectionIsLiteral) {
  Seed();
  auto unknown = index_->Search(Q(QueryLevel::kStudy, {M("patient_id; DROP TABLE studies", Match::Kind::kSingleValue, {"x"})}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidInput);
  auto below = index_->Search(Q(QueryLevel::kStudy, {M("sop_instance_uid", Match::Kind::kSingleValue, {"1"})}));
  EXPECT_FALSE(below);
  EXPECT_TRUE(Studies({M("patient_id", Match::Kind::kSingleValue, {"P1' OR '1'='1"})}).empty());
  EXPECT_EQ(index_->Stats()->studies, 4);
}

TEST_P(InstanceIndexContract, ConcurrentReadersAndWriter) {
  Seed();
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      auto s = std::to_string(i);
      if (!index_->InsertBatch({Record("W", "5." + s, "5." + s + ".1", "5." + s + ".1.1")}, false)) failed = true;
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!index_->Search(Q(QueryLevel::kStudy, {M("patient_id", Match::Kind::kSingleValue, {"W"})}))) failed = true;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(Studies({M("patient_id", Match::Kind::kSingleValue, {"W"})}).size(), 200u);
}

// Two opens of the same index (two nodes on one database, two processes on one
// file) writing into one series at once: every instance is stored once, each
// copy sent to both is reported a duplicate by one of them, and the counts are exact.
TEST_P(InstanceIndexContract, TwoOpenIndexesWriteOneSeriesConcurrently) {
  auto second = GetParam().open(folder_);
  ASSERT_TRUE(second);
  std::atomic<int> inserted{0}, duplicates{0};
  auto write = [&](InstanceIndex& index, const std::string& writer) {
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<InstanceRecord> records;
      for (int k = 0; k < 5; ++k) {
        const std::string n = std::to_string(batch * 5 + k);
        // Even k: the same instance from both writers; odd k: one writer's own.
        records.push_back(Record("P6", "6.1", "6.1.1", k % 2 == 0 ? "6.1.1." + n : "6.1.1." + writer + "." + n));
      }
      auto results = index.InsertBatch(records, false);
      if (!results) {
        ADD_FAILURE() << results.error().message;
        continue;
      }
      for (const auto& result : *results) ++(result.outcome == InsertOutcome::kInserted ? inserted : duplicates);
    }
  };
  std::thread first_writer([&] { write(*index_, "1"); });
  std::thread second_writer([&] { write(*second, "2"); });
  first_writer.join();
  second_writer.join();
  EXPECT_EQ(inserted, 60 + 2 * 40);
  EXPECT_EQ(duplicates, 60);
  EXPECT_EQ(index_->Stats()->instances, 140);
  auto rows = index_->Search(Q(QueryLevel::kSeries, {M("series_instance_uid", Match::Kind::kSingleValue, {"6.1.1"})}));
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].series_related_instances, 140);
  EXPECT_EQ((*rows)[0].study_related_instances, 140);
  EXPECT_EQ((*rows)[0].study_related_series, 1);
}

TEST_P(InstanceIndexContract, SurvivesReopen) {
  Seed();
  index_.reset();
  index_ = GetParam().open(folder_);
  ASSERT_TRUE(index_);
  EXPECT_EQ(index_->Stats()->instances, 7);
}

TEST_P(InstanceIndexContract, PatientLevelMatchKinds) {
  Seed();
  auto patients = [&](std::vector<Match> matches) {
    auto rows = index_->Search(Q(QueryLevel::kPatient, std::move(matches)));
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<std::string> ids;
    if (rows) {
      for (const auto& row : *rows) ids.push_back(row.attributes.patient_id);
    }
    return ids;
  };
  EXPECT_EQ(patients({}), (V{"P1", "P2", "P3"}));  // one row per patient, by PatientID
  EXPECT_EQ(patients({M("patient_sex", Match::Kind::kSingleValue, {"F"})}), (V{"P1", "P2", "P3"}));
  EXPECT_EQ(patients({M("patient_name", Match::Kind::kWildcard, {"SM?TH*"})}), (V{"P1", "P3"}));
  EXPECT_EQ(patients({M("patient_id", Match::Kind::kList, {"P3", "P2", "P9"})}), (V{"P2", "P3"}));
  EXPECT_EQ(patients({M("patient_birth_date", Match::Kind::kRange, {"19500101", "19600101"})}).size(), 3u);
  EXPECT_TRUE(patients({M("patient_birth_date", Match::Kind::kRange, {"19600102", ""})}).empty());
  EXPECT_EQ(patients({M("patient_id", Match::Kind::kSingleValue, {""})}).size(), 3u);  // zero length: universal
}

TEST_P(InstanceIndexContract, SeriesLevelMatchKinds) {
  Seed();
  auto series = [&](std::vector<Match> matches) {
    auto rows = index_->Search(Q(QueryLevel::kSeries, std::move(matches)));
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<std::string> uids;
    if (rows) {
      for (const auto& row : *rows) uids.push_back(row.attributes.series_instance_uid);
    }
    return uids;
  };
  EXPECT_EQ(series({M("modality", Match::Kind::kSingleValue, {"MR"})}), (V{"1.2.2"}));
  EXPECT_EQ(series({M("modality", Match::Kind::kList, {"MR", "CR"})}), (V{"1.2.2", "2.1.1"}));
  EXPECT_EQ(series({M("series_instance_uid", Match::Kind::kWildcard, {"1.2.?"})}), (V{"1.2.1", "1.2.2"}));
  EXPECT_EQ(series({M("series_number", Match::Kind::kRange, {"2", ""})}), (V{"1.2.2"}));
  EXPECT_EQ(series({M("patient_id", Match::Kind::kSingleValue, {"P2"})}), (V{"2.1.1"}));  // key of a level above
  EXPECT_EQ(series({M("study_date", Match::Kind::kRange, {"20260301", "20260301"}),
                    M("modality", Match::Kind::kWildcard, {"C*"})}),
            (V{"3.1.1"}));
}

TEST_P(InstanceIndexContract, InstanceLevelMatchKinds) {
  Seed();
  auto instances = [&](std::vector<Match> matches) {
    auto rows = index_->Search(Q(QueryLevel::kInstance, std::move(matches)));
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<std::string> uids;
    if (rows) {
      for (const auto& row : *rows) uids.push_back(row.attributes.sop_instance_uid);
    }
    return uids;
  };
  EXPECT_EQ(instances({M("sop_instance_uid", Match::Kind::kSingleValue, {"1.1.1.3"})}), (V{"1.1.1.3"}));
  EXPECT_EQ(instances({M("sop_instance_uid", Match::Kind::kList, {"2.1.1.1", "1.1.1.2"})}), (V{"1.1.1.2", "2.1.1.1"}));
  EXPECT_EQ(instances({M("sop_instance_uid", Match::Kind::kWildcard, {"1.1.1.?"})}),
            (V{"1.1.1.1", "1.1.1.3", "1.1.1.2"}));  // instance numbers 1, 2, 10
  EXPECT_EQ(instances({M("series_instance_uid", Match::Kind::kSingleValue, {"1.1.1"}),
                       M("instance_number", Match::Kind::kRange, {"10", "10"})}),
            (V{"1.1.1.2"}));
  EXPECT_EQ(instances({M("sop_class_uid", Match::Kind::kWildcard, {"*"})}).size(), 7u);
  auto rows = index_->Search(Q(QueryLevel::kInstance, {M("sop_instance_uid", Match::Kind::kSingleValue, {"1.2.2.1"})}));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  const auto& a = (*rows)[0].attributes;
  EXPECT_EQ(a.blob_key, "blob/1.2.2.1");
  EXPECT_EQ(a.sha256, "sha-1.2.2.1");
  EXPECT_EQ(a.transfer_syntax_uid, "1.2.840.10008.1.2.1");
  EXPECT_EQ(a.modality, "MR");
  EXPECT_EQ(a.study_instance_uid, "1.2");
  EXPECT_EQ((*rows)[0].series_related_instances, 1);
  EXPECT_EQ((*rows)[0].study_related_instances, 2);
}

TEST_P(InstanceIndexContract, RangeBoundsAndUniversalMatches) {
  Seed();
  EXPECT_EQ(Studies({M("study_date", Match::Kind::kRange, {"20260105", "20260105"})}), (V{"1.1"}));  // inclusive
  EXPECT_TRUE(Studies({M("study_date", Match::Kind::kRange, {"20260201", "20260101"})}).empty());   // low > high
  EXPECT_EQ(Studies({M("study_date", Match::Kind::kRange, {"", ""})}).size(), 4u);
  EXPECT_EQ(Studies({M("study_time", Match::Kind::kRange, {"101500", "101500"})}).size(), 3u);
  auto one_bound = index_->Search(Q(QueryLevel::kStudy, {M("study_date", Match::Kind::kRange, {"20260101"})}));
  ASSERT_FALSE(one_bound);
  EXPECT_EQ(one_bound.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(Studies({M("modalities_in_study", Match::Kind::kWildcard, {"M?"})}), (V{"1.2"}));
  EXPECT_EQ(Studies({M("modalities_in_study", Match::Kind::kWildcard, {"*"})}).size(), 4u);
  EXPECT_EQ(Studies({M("modalities_in_study", Match::Kind::kSingleValue, {"CR"})}), (V{"2.1"}));
  // Selective key together with a range.
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"SMITH*"}),
                     M("study_date", Match::Kind::kRange, {"20260110", ""})}),
            (V{"1.2"}));
}

TEST_P(InstanceIndexContract, LimitWithoutOffsetAndOffsetPastTheEnd) {
  Seed();
  Query first = Q(QueryLevel::kStudy, {});
  first.limit = 1;
  auto rows = index_->Search(first);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].attributes.study_instance_uid, "2.1");
  Query past = Q(QueryLevel::kStudy, {});
  past.offset = 4;
  EXPECT_TRUE(index_->Search(past)->empty());
  Query rest = Q(QueryLevel::kStudy, {});
  rest.offset = 3;  // offset alone, no limit
  ASSERT_EQ(index_->Search(rest)->size(), 1u);
  EXPECT_EQ((*index_->Search(rest))[0].attributes.study_instance_uid, "3.1");
  Query patients = Q(QueryLevel::kPatient, {});
  patients.limit = 2;
  patients.offset = 1;
  auto page = index_->Search(patients);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].attributes.patient_id, "P2");
  EXPECT_EQ((*page)[1].attributes.patient_id, "P3");
}

TEST_P(InstanceIndexContract, UnknownColumnIsNamedInTheError) {
  Seed();
  auto rows = index_->Search(Q(QueryLevel::kStudy, {M("patients_favourite_colour", Match::Kind::kSingleValue, {"x"})}));
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(rows.error().message.find("patients_favourite_colour"), std::string::npos) << rows.error().message;
  auto listed = index_->ListInstances(Q(QueryLevel::kStudy, {M("nope", Match::Kind::kList, {"x"})}));
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kInvalidInput);
}

TEST_P(InstanceIndexContract, SqlLookingValuesAreStoredAndMatchedLiterally) {
  Seed();
  const std::string name = "O'BRIEN^X'); DROP TABLE patients; --";
  auto record = Record("P'5", "5.5", "5.5.1", "5.5.1.1");
  record.patient_name = name;
  ASSERT_TRUE(index_->InsertBatch({record}, false));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kSingleValue, {name})}), (V{"5.5"}));
  EXPECT_EQ(Studies({M("patient_name", Match::Kind::kWildcard, {"O'BRIEN^X');*"})}), (V{"5.5"}));
  EXPECT_EQ(Studies({M("patient_id", Match::Kind::kList, {"P'5", "' OR 1=1 --"})}), (V{"5.5"}));
  EXPECT_TRUE(Studies({M("patient_id", Match::Kind::kSingleValue, {"x' OR '1'='1"})}).empty());
  EXPECT_TRUE(Studies({M("patient_name", Match::Kind::kWildcard, {"%"})}).empty());  // not a LIKE pattern
  EXPECT_EQ(index_->Stats()->patients, 4);
}

TEST_P(InstanceIndexContract, BatchWithAnInvalidRecordStoresNothing) {
  Seed();
  auto good = Record("P8", "8.1", "8.1.1", "8.1.1.1");
  auto bad = Record("P8", "8.1", "", "8.1.1.2");
  auto result = index_->InsertBatch({good, bad}, false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(result.error().message.find("series_instance_uid"), std::string::npos);
  EXPECT_FALSE(index_->FindInstance("8.1.1.1")->has_value());
  EXPECT_TRUE(Studies({M("patient_id", Match::Kind::kSingleValue, {"P8"})}).empty());
  EXPECT_EQ(index_->Stats()->instances, 7);
}

TEST_P(InstanceIndexContract, LaterInstancesCompleteStudyAttributes) {
  auto first = Record("P1", "1.1", "1.1.1", "1.1.1.1");
  first.study_description = "";
  first.accession_number = "ACC-1";
  ASSERT_TRUE(index_->InsertBatch({first}, false));
  auto second = Record("P1", "1.1", "1.1.2", "1.1.2.1");
  second.study_description = "CT HEAD";
  second.accession_number = "";  // empty: keeps the stored value
  second.modality = "SR";
  ASSERT_TRUE(index_->InsertBatch({second}, false));
  auto rows = index_->Search(Q(QueryLevel::kStudy, {}));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].attributes.study_description, "CT HEAD");
  EXPECT_EQ((*rows)[0].attributes.accession_number, "ACC-1");
  EXPECT_EQ((*rows)[0].modalities_in_study, "CT\\SR");
  EXPECT_EQ((*rows)[0].study_related_series, 2);
}

TEST_P(InstanceIndexContract, ReplaceIntoAnotherStudyLeavesNoEmptyStudy) {
  Seed();
  auto moved = Record("P3", "3.2", "3.2.1", "2.1.1.1");  // JONES's only instance, now filed elsewhere
  auto result = index_->InsertBatch({moved}, true);
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)[0].outcome, InsertOutcome::kReplaced);
  EXPECT_EQ((*result)[0].previous_sha256, "sha-2.1.1.1");
  EXPECT_EQ((*index_->FindInstance("2.1.1.1"))->study_instance_uid, "3.2");
  EXPECT_TRUE(Studies({M("study_instance_uid", Match::Kind::kSingleValue, {"2.1"})}).empty());
  auto stats = index_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->studies, 4);
  EXPECT_EQ(stats->series, 5);
  EXPECT_EQ(stats->instances, 7);
  EXPECT_EQ(stats->patients, 2);  // P2 had nothing else
}

// Within one batch: an instance sent twice with replace keeps the second copy
// (filed under another patient), and what the first copy created is removed.
TEST_P(InstanceIndexContract, ReplaceWithinOneBatchLeavesNothingEmpty) {
  Seed();
  auto first = Record("P9", "9.1", "9.1.1", "9.1.1.1");
  auto again = Record("P10", "10.1", "10.1.1", "9.1.1.1");
  again.blob_key = "blob/again";
  auto result = index_->InsertBatch({first, again}, true);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ((*result)[0].outcome, InsertOutcome::kInserted);
  EXPECT_EQ((*result)[1].outcome, InsertOutcome::kReplaced);
  EXPECT_EQ((*result)[1].previous_blob_key, "blob/9.1.1.1");
  EXPECT_EQ((*index_->FindInstance("9.1.1.1"))->blob_key, "blob/again");
  EXPECT_EQ((*index_->FindInstance("9.1.1.1"))->study_instance_uid, "10.1");
  auto stats = index_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->patients, 4);
  EXPECT_EQ(stats->studies, 5);
  EXPECT_EQ(stats->series, 6);
  EXPECT_EQ(stats->instances, 8);
}

// A batch that fails part-way leaves nothing of itself behind. SQLite-specific:
// a trigger makes the second insert fail.
TEST(SqliteIndex, FailedBatchIsRolledBack) {
  const std::string folder = ::testing::TempDir() + "/index-rollback";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  auto index = SqliteIndex::Open(folder + "/index.sqlite", false);
  ASSERT_TRUE(index);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((folder + "/index.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER poison BEFORE INSERT ON instances WHEN NEW.sop_instance_uid = '7.7.7.2' "
                         "BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto result = (*index)->InsertBatch({Record("P7", "7.7", "7.7.7", "7.7.7.1"), Record("P7", "7.7", "7.7.7", "7.7.7.2")},
                                      false);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kStorage);
  EXPECT_FALSE((*index)->FindInstance("7.7.7.1")->has_value());
  EXPECT_EQ((*index)->Stats()->patients, 0);
  EXPECT_EQ((*index)->Stats()->studies, 0);
  // The writer is usable again afterwards.
  EXPECT_TRUE((*index)->InsertBatch({Record("P7", "7.7", "7.7.7", "7.7.7.1")}, false));
}

INSTANTIATE_TEST_SUITE_P(Backends, InstanceIndexContract, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dx::storage
