#include "dicomweb/accept.hpp"

#include <gtest/gtest.h>

namespace dx::dicomweb {
namespace {

TEST(Accept, MissingOrWildcardMeansExplicitLittleEndian) {
  for (const char* header : {"", "*/*", "multipart/related; type=\"application/dicom\"", "multipart/related"}) {
    auto accept = NegotiateDicom(header);
    ASSERT_TRUE(accept) << header;
    EXPECT_FALSE(accept->any_syntax);
    EXPECT_TRUE(accept->Accepts(kExplicitLittleEndian)) << header;
    EXPECT_FALSE(accept->Accepts("1.2.840.10008.1.2.4.50")) << header;
  }
}

TEST(Accept, TransferSyntaxQuotedUnquotedAndStar) {
  auto star = NegotiateDicom("multipart/related; type=\"application/dicom\"; transfer-syntax=*");
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->Accepts("1.2.840.10008.1.2.4.90"));
  auto quoted = NegotiateDicom("multipart/related;type=application/dicom;transfer-syntax=\"1.2.840.10008.1.2.4.50\"");
  ASSERT_TRUE(quoted);
  EXPECT_TRUE(quoted->Accepts("1.2.840.10008.1.2.4.50"));
  EXPECT_FALSE(quoted->Accepts(kExplicitLittleEndian));
}

TEST(Accept, SeveralRangesAndQualityZero) {
  auto several = NegotiateDicom(
      "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.80, "
      "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1;q=0.5");
  ASSERT_TRUE(several);
  EXPECT_TRUE(several->Accepts("1.2.840.10008.1.2.4.80"));
  EXPECT_TRUE(several->Accepts(kExplicitLittleEndian));
  EXPECT_FALSE(NegotiateDicom("multipart/related; type=\"application/dicom\"; q=0"));
}

TEST(Accept, OtherMediaTypesAreNotAcceptable) {
  EXPECT_FALSE(NegotiateDicom("application/json"));
  EXPECT_FALSE(NegotiateDicom("multipart/related; type=\"application/octet-stream\""));
  EXPECT_FALSE(NegotiateDicom("image/jpeg, text/html"));
}

}  // namespace
}  // namespace dx::dicomweb
