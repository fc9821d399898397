// Original-mode acknowledgements (HL7 v2 chapter 2): MSH with sender and
// receiver swapped, MSA with the code and the acknowledged control id, and for
// AE/AR an ERR segment naming the problem (ERR-2 location, ERR-3 HL7 table 0357
// code, ERR-4 severity, ERR-8 text; ERR-1 for versions before 2.5).
#pragma once

#include <string>

#include "hl7/message.hpp"

namespace dx::hl7 {

enum class AckCode { kAccept, kError, kReject };  // AA, AE, AR

// HL7 table 0357 message error condition codes used by dxhub.
enum class ErrorCondition {
  kNone = 0,
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataTypeError = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersion = 203,
  kUnknownKeyIdentifier = 204,
  kApplicationInternalError = 207,
};

struct AckProblem {
  ErrorCondition condition = ErrorCondition::kNone;
  std::string location;  // "PID^1^3": segment, sequence, field
  std::string text;      // for the sender's operators; never a patient identifier
};

// Who acknowledges: MSH-3/MSH-4 of the ACK.
struct Acknowledger {
  std::string application = "DXHUB";
  std::string facility;  // empty: the incoming MSH-6
};

// The ACK for `incoming`; `control_id` is the ACK's own MSH-10 and `timestamp` its
// MSH-7 (YYYYMMDDHHMMSS).
std::string BuildAck(const Message& incoming, AckCode code, const AckProblem& problem, const Acknowledger& self,
                     const std::string& control_id, const std::string& timestamp);

// An ACK for text that is not a parsable message: best-effort MSH fields from
// whatever precedes the first segment break, AR with the problem.
std::string BuildRejectForUnparsable(std::string_view raw, const AckProblem& problem, const Acknowledger& self,
                                     const std::string& control_id, const std::string& timestamp);

}  // namespace dx::hl7
