#include "hl7/ack.hpp"

#include <gtest/gtest.h>

namespace dx::hl7 {
namespace {

Message Parse(const std::string& text) {
  auto m = Message::Parse(text);
  EXPECT_TRUE(m) << m.error().message;
  return *m;
}

TEST(Hl7Ack, AcceptSwapsSenderAndReceiverAndEchoesTheControlId) {
  auto in = Parse("MSH|^~\\&|WINPATH|RBZ|GPSYS|Y01234|20261120093000||ORU^R01^ORU_R01|MSG0001|P|2.5.1\r");
  auto ack = Parse(BuildAck(in, AckCode::kAccept, {}, {"DXHUB", ""}, "A1", "20261123100000"));
  EXPECT_EQ(ack.Get("MSH-3"), "DXHUB");
  EXPECT_EQ(ack.Get("MSH-4"), "Y01234");  // the incoming receiving facility
  EXPECT_EQ(ack.Get("MSH-5"), "WINPATH");
  EXPECT_EQ(ack.Get("MSH-6"), "RBZ");
  EXPECT_EQ(ack.Get("MSH-9"), "ACK");
  EXPECT_EQ(ack.Get("MSH-9.2"), "R01");
  EXPECT_EQ(ack.Get("MSH-10"), "A1");
  EXPECT_EQ(ack.Get("MSH-12"), "2.5.1");
  EXPECT_EQ(ack.Get("MSA-1"), "AA");
  EXPECT_EQ(ack.Get("MSA-2"), "MSG0001");
  EXPECT_EQ(ack.Find("ERR"), nullptr);
}

TEST(Hl7Ack, ErrorsNameTheProblemInErr) {
  auto in = Parse("MSH|^~\\&|LAB|X|ME|Y|20261120||ORU^R01|M2|P|2.5\r");
  auto ack = Parse(BuildAck(in, AckCode::kError,
                            {ErrorCondition::kDataTypeError, "PID^1^3", "bad NHS number | check digit"}, {}, "A2",
                            "20261123100000"));
  EXPECT_EQ(ack.Get("MSA-1"), "AE");
  EXPECT_EQ(ack.Get("MSA-3"), "bad NHS number | check digit");  // escaped on the wire, intact when read
  EXPECT_EQ(ack.Get("ERR-2"), "PID");
  EXPECT_EQ(ack.Get("ERR-2.3"), "3");
  EXPECT_EQ(ack.Get("ERR-3"), "102");
  EXPECT_EQ(ack.Get("ERR-3.3"), "HL70357");
  EXPECT_EQ(ack.Get("ERR-4"), "E");
  EXPECT_EQ(ack.Get("ERR-8"), "bad NHS number | check digit");
}

TEST(Hl7Ack, OlderVersionsUseErr1) {
  auto in = Parse("MSH|^~\\&|LAB|X|ME|Y|20261120||ADT^A01|M3|P|2.3\r");
  auto ack = Parse(BuildAck(in, AckCode::kReject, {ErrorCondition::kUnsupportedMessageType, "MSH^1^9", "no"}, {},
                            "A3", "20261123100000"));
  EXPECT_EQ(ack.Get("MSH-9"), "ACK");
  EXPECT_EQ(ack.Get("MSA-1"), "AR");
  EXPECT_EQ(ack.Get("ERR-1.4.1"), "200");
}

TEST(Hl7Ack, UnparsableTextGetsARejectWithWhatCouldBeRead) {
  const std::string ack_text = BuildRejectForUnparsable("MSH|^~\\&|LAB|X|ME|Y|20261120||ORU^R01|M4|P|2.4\rBAD SEGMENT",
                                                        {ErrorCondition::kSegmentSequence, "", "segment 2 is malformed"},
                                                        {}, "A4", "20261123100000");
  auto ack = Parse(ack_text);
  EXPECT_EQ(ack.Get("MSA-1"), "AR");
  EXPECT_EQ(ack.Get("MSA-2"), "M4");
  EXPECT_EQ(ack.Get("MSH-5"), "LAB");
  auto blind = Parse(BuildRejectForUnparsable("garbage", {ErrorCondition::kSegmentSequence, "", "not HL7"}, {}, "A5",
                                              "20261123100000"));
  EXPECT_EQ(blind.Get("MSA-1"), "AR");
}

}  // namespace
}  // namespace dx::hl7
