#include "worklist/worklist.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace dx::worklist {
namespace {

namespace dt = dicom::tags;

storage::OrderRecord Booked() {
  storage::OrderRecord o;
  o.id = "0000000000000000000000000000002a";
  o.nhs_number = "9434765919";
  o.patient_name = "OKAFOR^ADA";
  o.birth_date = "19610714";
  o.sex = "F";
  o.code = "CT-HEAD";
  o.code_display = "CT head";
  o.modality = "CT";
  o.priority = "urgent";
  o.stage = "booked";
  o.accession_number = "DX42";
  o.booked_site = "RXX01";
  o.booked_for = 1795426200;  // 2026-11-23T09:30:00Z
  o.details = R"({"station":"CT01"})";
  return o;
}

dicom::Attributes Query(std::initializer_list<std::tuple<dicom::Tag, const char*, const char*>> step_keys,
                        std::initializer_list<std::tuple<dicom::Tag, const char*, const char*>> keys = {}) {
  dicom::Attributes step;
  for (const auto& [tag, vr, value] : step_keys) step.Set(tag, vr, value);
  dicom::Attributes query;
  for (const auto& [tag, vr, value] : keys) query.Set(tag, vr, value);
  query.SetSequence(tags::kScheduledProcedureStepSequence, {step});
  return query;
}

class WorklistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

TEST_F(WorklistTest, AnItemCarriesTheRequestAndItsScheduledStep) {
  const auto item = ItemFor(Booked());
  EXPECT_EQ(item.Get(dt::kPatientId), "9434765919");
  EXPECT_EQ(item.Get(dt::kAccessionNumber), "DX42");
  EXPECT_EQ(item.Get(tags::kPlacerOrderNumber), "0000000000000000000000000000002a");
  EXPECT_EQ(item.Get(dt::kStudyInstanceUid), "2.25.42");
  EXPECT_EQ(item.Get(tags::kRequestedProcedurePriority), "HIGH");
  const auto* steps = item.Items(tags::kScheduledProcedureStepSequence);
  ASSERT_TRUE(steps && steps->size() == 1);
  const auto& step = steps->front();
  EXPECT_EQ(step.Get(tags::kScheduledStationAeTitle), "CT01");
  EXPECT_EQ(step.Get(tags::kScheduledStartDate), "20261123");
  EXPECT_EQ(step.Get(tags::kScheduledStartTime), "093000");
  EXPECT_EQ(step.Get(tags::kScheduledStepStatus), "SCHEDULED");
  const auto* codes = item.Items(tags::kRequestedProcedureCodeSequence);
  ASSERT_TRUE(codes && codes->size() == 1);
  EXPECT_EQ(codes->front().Get(tags::kCodeValue), "CT-HEAD");
}

TEST_F(WorklistTest, StudyUidsAreTheIdAsADecimalNumber) {
  EXPECT_EQ(StudyUidFor("00000000000000000000000000000000"), "2.25.0");
  EXPECT_EQ(StudyUidFor("ffffffffffffffffffffffffffffffff"), "2.25.340282366920938463463374607431768211455");
  EXPECT_EQ(StudyUidFor("0123456789abcdef0123456789ABCDEF"), "2.25.1512366075204170929049582354406559215");
}

TEST_F(WorklistTest, MatchingByStationDateRangeModalityAndName) {
  const auto item = ItemFor(Booked());
  EXPECT_TRUE(Matches(item, Query({{tags::kScheduledStationAeTitle, "AE", "CT01"}, {dt::kModality, "CS", "CT"}})));
  EXPECT_FALSE(Matches(item, Query({{tags::kScheduledStationAeTitle, "AE", "CT02"}})));
  EXPECT_FALSE(Matches(item, Query({{dt::kModality, "CS", "MR"}})));
  EXPECT_TRUE(Matches(item, Query({{tags::kScheduledStartDate, "DA", "20261123"}})));
  EXPECT_TRUE(Matches(item, Query({{tags::kScheduledStartDate, "DA", "20261120-20261130"}})));
  EXPECT_TRUE(Matches(item, Query({{tags::kScheduledStartDate, "DA", "-20261123"}})));
  EXPECT_FALSE(Matches(item, Query({{tags::kScheduledStartDate, "DA", "20261124-"}})));
  EXPECT_TRUE(Matches(item, Query({{tags::kScheduledStartTime, "TM", "09-10"}})));
  EXPECT_FALSE(Matches(item, Query({{tags::kScheduledStartTime, "TM", "1000-1200"}})));
  EXPECT_TRUE(Matches(item, Query({}, {{dt::kPatientName, "PN", "okafor*"}})));
  EXPECT_TRUE(Matches(item, Query({}, {{dt::kPatientName, "PN", "OKAF?R^ADA"}})));
  EXPECT_FALSE(Matches(item, Query({}, {{dt::kPatientName, "PN", "SMITH*"}})));
  EXPECT_TRUE(Matches(item, Query({}, {{dt::kStudyInstanceUid, "UI", "1.2.3\\2.25.42"}})));
  EXPECT_TRUE(Matches(item, Query({}, {{dt::kPatientName, "PN", "*"}})));
  // A key dxhub does not carry is a return key only.
  EXPECT_TRUE(Matches(item, Query({}, {{dicom::Tag{0x0038, 0x0010}, "LO", "ADM1"}})));
}

TEST_F(WorklistTest, BadKeysAreInvalidInputNamingTheKey) {
  for (const char* bad : {"tomorrow", "2026112", "20261123-20261124-2", "-"}) {
    auto parsed = ParseQuery(Query({{tags::kScheduledStartDate, "DA", bad}}));
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(parsed.error().message.find("0040,0002"), std::string::npos) << parsed.error().message;
  }
  EXPECT_FALSE(ParseQuery(Query({{tags::kScheduledStartTime, "TM", "25h"}})));
  dicom::Attributes two;
  two.SetSequence(tags::kScheduledProcedureStepSequence, {dicom::Attributes{}, dicom::Attributes{}});
  EXPECT_FALSE(ParseQuery(two));
}

TEST_F(WorklistTest, AQueryIsNarrowedForTheStore) {
  auto parsed = ParseQuery(Query({{tags::kScheduledStartDate, "DA", "20261123-20261124"},
                                  {dt::kModality, "CS", "CT"},
                                  {tags::kScheduledStepLocation, "SH", "RX*"}}));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->scheduled.modality, "CT");
  EXPECT_EQ(parsed->scheduled.site, "");  // a wildcard is matched afterwards, not by the store
  EXPECT_EQ(parsed->scheduled.from, 1795392000);  // 2026-11-23T00:00Z
  EXPECT_EQ(parsed->scheduled.to, 1795564800);    // 2026-11-25T00:00Z
  auto by_accession = ParseQuery(Query({}, {{dt::kAccessionNumber, "SH", "DX42"}, {dt::kPatientId, "LO", "94*"}}));
  EXPECT_EQ(by_accession->scheduled.accession_number, "DX42");
  EXPECT_EQ(by_accession->scheduled.nhs_number, "");
}

TEST_F(WorklistTest, TheResponseHoldsTheRequestedKeysAndWholeSequencesWhenAskedEmpty) {
  const auto item = ItemFor(Booked());
  dicom::Attributes query = Query({{tags::kScheduledStationAeTitle, "AE", ""}}, {{dt::kPatientName, "PN", ""}});
  query.SetSequence(tags::kRequestedProcedureCodeSequence, {});
  const auto response = Project(item, query);
  EXPECT_EQ(response.Get(dt::kPatientName), "OKAFOR^ADA");
  EXPECT_FALSE(response.Has(dt::kPatientId));
  const auto* steps = response.Items(tags::kScheduledProcedureStepSequence);
  ASSERT_TRUE(steps && steps->size() == 1);
  EXPECT_EQ(steps->front().elements().size(), 1u);
  EXPECT_EQ(steps->front().Get(tags::kScheduledStationAeTitle), "CT01");
  const auto* codes = response.Items(tags::kRequestedProcedureCodeSequence);
  ASSERT_TRUE(codes && codes->size() == 1);
  EXPECT_EQ(codes->front().Get(tags::kCodeMeaning), "CT head");
}

}  // namespace
}  // namespace dx::worklist
