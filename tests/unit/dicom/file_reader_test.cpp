#include "dicom/file_reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "part10_writer.hpp"

namespace dx::dicom {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(FileReader, ReadsAttributesAndTransferSyntax) {
  const auto path = TempPath("reader-ok.dcm");
  testing::SmallCt("1.2.3", "1.2.3.4", "1.2.3.4.5").Write(path);
  auto parsed = ReadDicomFile(path);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->transfer_syntax_uid, "1.2.840.10008.1.2.1");
  EXPECT_EQ(parsed->attributes.Get(tags::kStudyInstanceUid), "1.2.3");
  EXPECT_EQ(parsed->attributes.Get(tags::kSopInstanceUid), "1.2.3.4.5");
  EXPECT_EQ(parsed->attributes.Get(tags::kPatientName), "TEST^PATIENT");
  EXPECT_EQ(parsed->attributes.Get(tags::kRows), "64");
  EXPECT_EQ(parsed->attributes.Get(tags::kInstanceNumber), "7");
}

TEST(FileReader, JsonKeepsPixelDataAsBulkDataUri) {
  const auto path = TempPath("reader-json.dcm");
  testing::SmallCt("1.2.3", "1.2.3.4", "1.2.3.4.5").Write(path);
  auto parsed = ReadDicomFile(path);
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto json = nlohmann::json::parse(parsed->dicom_json);
  EXPECT_EQ(json["00100010"]["vr"], "PN");
  EXPECT_EQ(json["00100010"]["Value"][0]["Alphabetic"], "TEST^PATIENT");
  EXPECT_EQ(json["00280010"]["Value"][0], 64);
  EXPECT_EQ(json["7FE00010"]["BulkDataURI"], "studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5/bulk/7FE00010");
  EXPECT_FALSE(json["7FE00010"].contains("InlineBinary"));
}

TEST(FileReader, RejectsTruncatedPixelData) {
  const auto path = TempPath("reader-truncated.dcm");
  testing::SmallCt("1.2.3", "1.2.3.4", "1.2.3.4.5").Write(path, 1000);
  auto parsed = ReadDicomFile(path);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
}

TEST(FileReader, RejectsGarbage) {
  const auto path = TempPath("reader-garbage.dcm");
  std::ofstream(path, std::ios::binary) << std::string(2000, '\x7f');
  auto parsed = ReadDicomFile(path);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace dx::dicom
