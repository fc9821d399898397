#include "dicom/json_model.hpp"

#include <gtest/gtest.h>

namespace dx::dicom {
namespace {

std::string Appended(const Attributes& attributes) {
  std::string out = "prefix";
  AppendDicomJson(attributes, out);
  return out.substr(6);
}

TEST(DicomJson, AppendedTextIsTheTreeDumped) {
  Attributes a;
  a.Set(tags::kSpecificCharacterSet, "CS", "ISO_IR 192");
  a.Set(tags::kStudyDate, "DA", "20260101");
  a.Set(tags::kQueryRetrieveLevel, "CS", "");
  a.Set(tags::kModalitiesInStudy, "CS", "CT\\MR");
  a.Set(tags::kReferringPhysicianName, "PN", "WHO^DR\\");
  a.Set(tags::kStudyDescription, "LO", "quote \" backslash-free, tab\t, bell\x07, newline\n, caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  a.Set(tags::kPatientName, "PN", "O'NEILL^SEAN=\xE3\x82\xA4");
  a.Set(tags::kOtherPatientIdsSequence, "SQ", "");
  a.Set(tags::kSeriesNumber, "IS", "12\\-3\\x");
  a.Set(Tag{0x0020, 0x0032}, "DS", "-12.5\\0.3333333333\\1e3");
  a.Set(Tag{0x0009, 0x0010}, "", "no vr");
  EXPECT_EQ(Appended(a), ToDicomJson(a).dump());
  EXPECT_EQ(Appended(Attributes{}), "{}");
}

TEST(DicomJson, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  Attributes a;
  a.Set(tags::kPatientName, "PN", "M\xFCLLER^J\xC3");  // Latin-1 ü, a cut sequence
  EXPECT_EQ(Appended(a), "{\"00100010\":{\"Value\":[{\"Alphabetic\":\"M\xEF\xBF\xBDLLER^J\xEF\xBF\xBD\"}],\"vr\":\"PN\"}}");
  a.Set(tags::kPatientName, "PN", "\xED\xA0\x80\xC0\xAF");  // a surrogate, an overlong '/'
  EXPECT_EQ(Appended(a), "{\"00100010\":{\"Value\":[{\"Alphabetic\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}],\"vr\":\"PN\"}}");
}

}  // namespace
}  // namespace dx::dicom
