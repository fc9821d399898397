#include "hl7/message.hpp"

#include <gtest/gtest.h>

namespace dx::hl7 {
namespace {

const char kOru[] =
    "MSH|^~\\&|WINPATH|RBZ|GPSYS|Y01234|20261120093000||ORU^R01^ORU_R01|MSG0001|P|2.4\r"
    "PID|1||9434765919^^^NHS^NH~A123^^^RBZ^MR||SMITH^JOHN^A||19600101|M\r"
    "OBR|1|PL123|FL456|26604007^Full blood count^SCT\r"
    "OBX|1|TX|COMMENT^Comment^L||Growth of E. coli \\T\\ Klebsiella\\.br\\Sensitive: \\F\\ amoxicillin \\S\\ 1\\E\\2||||||F\r";

TEST(Hl7Message, ParsesSegmentsFieldsComponentsAndRepetitions) {
  auto m = Message::Parse(kOru);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->segments().size(), 4u);
  EXPECT_EQ(m->Get("MSH-1"), "|");
  EXPECT_EQ(m->Get("MSH-2"), "^~\\&");
  EXPECT_EQ(m->Get("MSH-9"), "ORU");
  EXPECT_EQ(m->Get("MSH-9.2"), "R01");
  EXPECT_EQ(m->Get("MSH-10"), "MSG0001");
  EXPECT_EQ(m->Get("PID-3"), "9434765919");
  EXPECT_EQ(m->Get("PID-3.4"), "NHS");
  EXPECT_EQ(m->Get("PID-3(2).1"), "A123");
  EXPECT_EQ(m->Get("PID-3(3).1"), "");
  EXPECT_EQ(m->Repetitions(*m->Find("PID"), 3), 2);
  EXPECT_EQ(m->Get("PID-5.2"), "JOHN");
  EXPECT_EQ(m->Get("PID-99"), "");
  EXPECT_EQ(m->Get("ZZZ-1"), "");
  EXPECT_EQ(m->Get("OBX-5"), "Growth of E. coli & Klebsiella\nSensitive: | amoxicillin ^ 1\\2");
}

TEST(Hl7Message, AcceptsEveryLineEnding) {
  std::string text = kOru;
  for (const char* ending : {"\n", "\r\n"}) {
    std::string variant;
    for (char c : text) variant += c == '\r' ? std::string(ending) : std::string(1, c);
    auto m = Message::Parse(variant);
    ASSERT_TRUE(m) << ending;
    EXPECT_EQ(m->segments().size(), 4u);
    EXPECT_EQ(m->Get("OBR-4.2"), "Full blood count");
  }
}

TEST(Hl7Message, CustomDelimitersComeFromMsh) {
  auto m = Message::Parse("MSH*:!@#*LAB*FAC*ME*YOU*20261120**ORU:R01*42*P*2.3\rPID*1**9434765919:::NHS**JONES:ANN!JONES:A\r");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->delimiters().field, '*');
  EXPECT_EQ(m->delimiters().component, ':');
  EXPECT_EQ(m->delimiters().repetition, '!');
  EXPECT_EQ(m->delimiters().escape, '@');
  EXPECT_EQ(m->delimiters().subcomponent, '#');
  EXPECT_EQ(m->Get("MSH-9.2"), "R01");
  EXPECT_EQ(m->Get("PID-3.4"), "NHS");
  EXPECT_EQ(m->Get("PID-5(2).2"), "A");
}

TEST(Hl7Message, EncodeGivesTheMessageBack) {
  auto m = Message::Parse(kOru);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Encode(), kOru);
  // A header alone, without a segment end (found by the fuzzer): encoded and read again.
  auto bare = Message::Parse("MSH|^~\\&");
  ASSERT_TRUE(bare) << bare.error().message;
  auto again = Message::Parse(bare->Encode());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->Get("MSH-2"), "^~\\&");
}

TEST(Hl7Message, EscapeAndUnescapeRoundTrip) {
  const std::string text = "a|b^c&d~e\\f\nline two";
  EXPECT_EQ(Escape(text), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\line two");
  EXPECT_EQ(Unescape(Escape(text)), text);
  EXPECT_EQ(Unescape("\\X41424344\\"), "ABCD");
  EXPECT_EQ(Unescape("\\H\\bold\\N\\"), "bold");  // highlighting carries no text
  EXPECT_EQ(Unescape("trailing \\"), "trailing \\");
}

TEST(Hl7Message, MalformedInputIsRefusedWithAReason) {
  for (const char* bad : {"", "PID|1||123", "MSH", "MSH|^~", "MSH|^^\\&|A", "MSH|^~\\&|A\rpid|1", "MSH|^~\\&|A\rPIDX|1",
                          "MSH|^~\\&|A\rMSH|^~\\&|B", "MSHA^~\\&|A"}) {
    auto m = Message::Parse(bad);
    EXPECT_FALSE(m) << bad;
    if (!m) {
      EXPECT_EQ(m.error().code, ErrorCode::kInvalidInput);
      EXPECT_FALSE(m.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace dx::hl7
