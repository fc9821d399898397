#include "hl7/ack.hpp"

#include <fmt/format.h>

namespace dx::hl7 {
namespace {

const char* CodeText(AckCode code) {
  switch (code) {
    case AckCode::kAccept: return "AA";
    case AckCode::kError: return "AE";
    case AckCode::kReject: return "AR";
  }
  return "AE";
}

const char* ConditionText(ErrorCondition condition) {
  switch (condition) {
    case ErrorCondition::kSegmentSequence: return "Segment sequence error";
    case ErrorCondition::kRequiredFieldMissing: return "Required field missing";
    case ErrorCondition::kDataTypeError: return "Data type error";
    case ErrorCondition::kTableValueNotFound: return "Table value not found";
    case ErrorCondition::kUnsupportedMessageType: return "Unsupported message type";
    case ErrorCondition::kUnsupportedEventCode: return "Unsupported event code";
    case ErrorCondition::kUnsupportedProcessingId: return "Unsupported processing id";
    case ErrorCondition::kUnsupportedVersion: return "Unsupported version id";
    case ErrorCondition::kUnknownKeyIdentifier: return "Unknown key identifier";
    case ErrorCondition::kApplicationInternalError: return "Application internal error";
    case ErrorCondition::kNone: return "";
  }
  return "";
}

struct Header {
  std::string sending_application, sending_facility, receiving_facility, trigger, control_id, processing_id,
      version;
};

std::string Ack(const Header& in, AckCode code, const AckProblem& problem, const Acknowledger& self,
                const std::string& control_id, const std::string& timestamp) {
  const Delimiters d;
  const std::string version = in.version.empty() ? "2.5.1" : in.version;
  const bool modern = version >= "2.5";
  const std::string type = version >= "2.4" ? fmt::format("ACK^{}^ACK", Escape(in.trigger, d)) : "ACK^" + Escape(in.trigger, d);
  std::string out = fmt::format("MSH|^~\\&|{}|{}|{}|{}|{}||{}|{}|{}|{}\r", Escape(self.application, d),
                                Escape(self.facility.empty() ? in.receiving_facility : self.facility, d),
                                Escape(in.sending_application, d), Escape(in.sending_facility, d), timestamp, type,
                                Escape(control_id, d), Escape(in.processing_id.empty() ? "P" : in.processing_id, d),
                                Escape(version, d));
  out += fmt::format("MSA|{}|{}", CodeText(code), Escape(in.control_id, d));
  if (code != AckCode::kAccept && !problem.text.empty()) out += "|" + Escape(problem.text, d);
  out += "\r";
  if (code != AckCode::kAccept && problem.condition != ErrorCondition::kNone) {
    const int number = static_cast<int>(problem.condition);
    if (modern) {
      out += fmt::format("ERR||{}|{}^{}^HL70357|E||||{}\r", problem.location, number, ConditionText(problem.condition),
                         Escape(problem.text, d));
    } else {
      out += fmt::format("ERR|{}^{}&{}&HL70357\r", problem.location, number, ConditionText(problem.condition));
    }
  }
  return out;
}

}  // namespace

std::string BuildAck(const Message& incoming, AckCode code, const AckProblem& problem, const Acknowledger& self,
                     const std::string& control_id, const std::string& timestamp) {
  Header in;
  if (const Segment* msh = incoming.Find("MSH")) {
    in.sending_application = incoming.Get(*msh, 3);
    in.sending_facility = incoming.Get(*msh, 4);
    in.receiving_facility = incoming.Get(*msh, 6);
    in.trigger = incoming.Get(*msh, 9, 2);
    in.control_id = incoming.Get(*msh, 10);
    in.processing_id = incoming.Get(*msh, 11);
    in.version = incoming.Get(*msh, 12);
  }
  return Ack(in, code, problem, self, control_id, timestamp);
}

std::string BuildRejectForUnparsable(std::string_view raw, const AckProblem& problem, const Acknowledger& self,
                                     const std::string& control_id, const std::string& timestamp) {
  Header in;
  const std::string_view first = raw.substr(0, raw.find_first_of("\r\n"));
  if (first.size() > 8 && first.substr(0, 3) == "MSH") {
    const char field = first[3];
    const auto fields = Split(first.substr(4), field);  // fields[0] is MSH-2
    auto at = [&](std::size_t n) { return n - 2 < fields.size() ? std::string(fields[n - 2]) : std::string(); };
    const std::string component(1, fields.empty() || fields[0].empty() ? '^' : fields[0][0]);
    in.sending_application = at(3).substr(0, at(3).find(component));
    in.sending_facility = at(4).substr(0, at(4).find(component));
    in.receiving_facility = at(6).substr(0, at(6).find(component));
    in.control_id = at(10);
    in.version = at(12).substr(0, at(12).find(component));
    const std::string type = at(9);
    const auto split = type.find(component);
    if (split != std::string::npos) in.trigger = type.substr(split + 1, type.find(component, split + 1) - split - 1);
  }
  return Ack(in, AckCode::kReject, problem, self, control_id, timestamp);
}

}  // namespace dx::hl7
