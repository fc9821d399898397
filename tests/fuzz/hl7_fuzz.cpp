// libFuzzer target: any bytes as an HL7 v2 message through everything an MLLP
// peer can reach before storage: the parser, reading by position, re-encoding,
// the ORU^R01 mapping and the acknowledgement builders. Must never crash, hang
// or leak; run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hl7/ack.hpp"
#include "hl7/message.hpp"
#include "results/oru.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const dx::hl7::AckProblem problem{dx::hl7::ErrorCondition::kSegmentSequence, "MSH", "fuzz"};
  (void)dx::hl7::BuildRejectForUnparsable(text, problem, {}, "F1", "20261123000000");
  auto message = dx::hl7::Message::Parse(text);
  if (!message) return 0;
  for (const auto& segment : message->segments()) {
    for (int field = 1; field < 30; ++field) {
      for (int repetition = 1; repetition <= 3; ++repetition) (void)message->Get(segment, field, 2, repetition, 2);
    }
  }
  (void)message->Get("PID-3(2).4.1");
  auto again = dx::hl7::Message::Parse(message->Encode());
  if (!again || again->segments().size() != message->segments().size()) __builtin_trap();  // writing loses nothing
  (void)dx::results::MapOru(*message, "FUZZ|LAB", dx::storage::ResourceIds::kOrdered);
  (void)dx::hl7::BuildAck(*message, dx::hl7::AckCode::kError, problem, {}, "F2", "20261123000000");
  (void)dx::results::FhirDateTime(message->Get("MSH-7"));
  return 0;
}
