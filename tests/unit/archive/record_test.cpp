#include "archive/record.hpp"

#include <gtest/gtest.h>

namespace dx::archive {
namespace {

namespace tags = dicom::tags;

dicom::ParsedFile Parsed() {
  dicom::ParsedFile parsed;
  parsed.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  auto& a = parsed.attributes;
  a.Set(tags::kSopClassUid, "UI", "1.2.840.10008.5.1.4.1.1.2");
  a.Set(tags::kSopInstanceUid, "UI", "1.2.3.4.5");
  a.Set(tags::kStudyInstanceUid, "UI", "1.2.3");
  a.Set(tags::kSeriesInstanceUid, "UI", "1.2.3.4");
  a.Set(tags::kPatientId, "LO", "LOCAL1");
  a.Set(tags::kIssuerOfPatientId, "LO", "RGT");
  a.Set(tags::kNumberOfFrames, "IS", "12");
  return parsed;
}

TEST(Record, CopiesAttributes) {
  auto record = RecordFromFile(Parsed());
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->sop_instance_uid, "1.2.3.4.5");
  EXPECT_EQ(record->issuer_of_patient_id, "RGT");
  EXPECT_EQ(record->number_of_frames, 12);
  EXPECT_EQ(record->nhs_number, "");
}

TEST(Record, FindsNhsNumberByIssuerOrOtherIds) {
  auto parsed = Parsed();
  parsed.attributes.Set(tags::kOtherPatientIds, "LO", "XYZ\\943 476 5919");
  auto record = RecordFromFile(parsed);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->nhs_number, "9434765919");

  auto nhs = Parsed();
  nhs.attributes.Set(tags::kPatientId, "LO", "9434765919");
  nhs.attributes.Set(tags::kIssuerOfPatientId, "LO", "NHS");
  EXPECT_EQ(RecordFromFile(nhs)->nhs_number, "9434765919");

  auto invalid = Parsed();
  invalid.attributes.Set(tags::kPatientId, "LO", "9434765918");  // bad check digit
  invalid.attributes.Set(tags::kIssuerOfPatientId, "LO", "NHS");
  EXPECT_EQ(RecordFromFile(invalid)->nhs_number, "");
}

TEST(Record, MissingOrInvalidUidsAreRejected) {
  auto missing = Parsed();
  missing.attributes.Set(tags::kSopInstanceUid, "UI", "");
  auto record = RecordFromFile(missing);
  ASSERT_FALSE(record);
  EXPECT_NE(record.error().message.find("SOPInstanceUID"), std::string::npos);

  auto invalid = Parsed();
  invalid.attributes.Set(tags::kSeriesInstanceUid, "UI", "1.2.abc");
  record = RecordFromFile(invalid);
  ASSERT_FALSE(record);
  EXPECT_NE(record.error().message.find("SeriesInstanceUID"), std::string::npos);
}

}  // namespace
}  // namespace dx::archive
