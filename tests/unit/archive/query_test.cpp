#include "archive/query.hpp"

#include <gtest/gtest.h>

namespace dx::archive {
namespace {

namespace tags = dicom::tags;
using storage::Match;
using storage::QueryLevel;

dicom::Attributes Identifier(const std::string& level) {
  dicom::Attributes a;
  a.Set(tags::kQueryRetrieveLevel, "CS", level);
  return a;
}

const Match* Find(const storage::Query& q, const std::string& column) {
  for (const auto& m : q.matches) {
    if (m.column == column) return &m;
  }
  return nullptr;
}

TEST(Query, MatchingTypesFromValues) {
  auto id = Identifier("STUDY");
  id.Set(tags::kPatientName, "PN", "SMI*");
  id.Set(tags::kPatientId, "LO", "12345");
  id.Set(tags::kStudyDate, "DA", "20260101-20260131");
  id.Set(tags::kStudyTime, "TM", "-1200");
  id.Set(tags::kStudyInstanceUid, "UI", "1.2.3\\1.2.4");
  id.Set(tags::kAccessionNumber, "SH", "");
  id.Set(tags::kModalitiesInStudy, "CS", "CT\\MR");
  auto q = QueryFromIdentifier(id, false);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->level, QueryLevel::kStudy);
  EXPECT_EQ(Find(*q, "patient_name")->kind, Match::Kind::kWildcard);
  EXPECT_EQ(Find(*q, "patient_id")->kind, Match::Kind::kSingleValue);
  const Match* date = Find(*q, "study_date");
  ASSERT_TRUE(date);
  EXPECT_EQ(date->kind, Match::Kind::kRange);
  EXPECT_EQ(date->values, (std::vector<std::string>{"20260101", "20260131"}));
  EXPECT_EQ(Find(*q, "study_time")->values, (std::vector<std::string>{"", "1200"}));
  EXPECT_EQ(Find(*q, "study_instance_uid")->kind, Match::Kind::kList);
  EXPECT_EQ(Find(*q, "accession_number"), nullptr);  // universal
  EXPECT_EQ(Find(*q, "modalities_in_study")->values, (std::vector<std::string>{"CT", "MR"}));
}

TEST(Query, LowerLevelKeysDoNotConstrain) {
  auto id = Identifier("STUDY");
  id.Set(tags::kSopInstanceUid, "UI", "1.2.3");
  auto q = QueryFromIdentifier(id, false);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->matches.empty());
}

TEST(Query, BadLevelAndRangeAreErrors) {
  EXPECT_FALSE(QueryFromIdentifier(Identifier("EVERYTHING"), false));
  EXPECT_FALSE(QueryFromIdentifier(dicom::Attributes{}, false));
  EXPECT_FALSE(QueryFromIdentifier(Identifier("PATIENT"), false));  // Study Root has no PATIENT level
  EXPECT_TRUE(QueryFromIdentifier(Identifier("PATIENT"), true));
  auto id = Identifier("STUDY");
  id.Set(tags::kStudyDate, "DA", "2026-01-01-2026");
  auto q = QueryFromIdentifier(id, false);
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("study_date"), std::string::npos);
  auto word = Identifier("STUDY");
  word.Set(tags::kStudyDate, "DA", "yesterday");
  auto single = QueryFromIdentifier(word, false);
  ASSERT_FALSE(single);
  EXPECT_NE(single.error().message.find("not a valid date: 'yesterday'"), std::string::npos);
}

TEST(Query, FuzzyNamesSplitIntoUpperCaseWords) {
  auto id = Identifier("STUDY");
  id.Set(tags::kPatientName, "PN", "smith^Jo*");
  id.Set(tags::kPatientId, "LO", "abc*");
  auto fuzzy = QueryFromIdentifier(id, false, true);
  ASSERT_TRUE(fuzzy);
  EXPECT_EQ(Find(*fuzzy, "patient_name")->kind, Match::Kind::kFuzzyName);
  EXPECT_EQ(Find(*fuzzy, "patient_name")->values, (std::vector<std::string>{"SMITH", "JO"}));
  EXPECT_EQ(Find(*fuzzy, "patient_id")->kind, Match::Kind::kWildcard);  // not a name
  auto literal = QueryFromIdentifier(id, false);
  ASSERT_TRUE(literal);
  EXPECT_EQ(Find(*literal, "patient_name")->kind, Match::Kind::kWildcard);
}

TEST(Query, ResponseReturnsRequestedKeysOnly) {
  auto id = Identifier("SERIES");
  id.Set(tags::kSeriesInstanceUid, "UI", "");
  id.Set(tags::kModality, "CS", "");
  id.Set(tags::kNumberOfSeriesRelatedInstances, "IS", "");
  id.Set(tags::kSopInstanceUid, "UI", "");  // below the level: returned empty
  id.Set(dicom::Tag{0x0009, 0x1001}, "LO", "");  // unknown: returned empty
  storage::QueryRow row;
  row.attributes.series_instance_uid = "1.2.3.4";
  row.attributes.modality = "CT";
  row.attributes.sop_instance_uid = "9.9.9";
  row.series_related_instances = 12;
  auto response = ResponseFor(id, QueryLevel::kSeries, row, "DXHUB");
  EXPECT_EQ(response.Get(tags::kSeriesInstanceUid), "1.2.3.4");
  EXPECT_EQ(response.Get(tags::kModality), "CT");
  EXPECT_EQ(response.Get(tags::kNumberOfSeriesRelatedInstances), "12");
  EXPECT_EQ(response.Get(tags::kSopInstanceUid), "");
  EXPECT_TRUE(response.Has(dicom::Tag{0x0009, 0x1001}));
  EXPECT_FALSE(response.Has(tags::kPatientName));
  EXPECT_EQ(response.Get(tags::kQueryRetrieveLevel), "SERIES");
}

}  // namespace
}  // namespace dx::archive
