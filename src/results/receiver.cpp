#include "results/receiver.hpp"

#include <fmt/format.h>

#include "core/logging.hpp"
#include "core/uid.hpp"

namespace dx::results {

using hl7::AckCode;
using hl7::AckProblem;
using hl7::ErrorCondition;

ResultsReceiver::ResultsReceiver(GroupCommit& commit, storage::ResourceIds ids, hl7::Acknowledger self, Clock now)
    : commit_(commit), ids_(ids), self_(std::move(self)), now_(std::move(now)),
      prefix_(GenerateUuid().substr(0, 8)) {}

std::string ResultsReceiver::NextControlId() { return fmt::format("DX{}{}", prefix_, ++sequence_); }

std::string ResultsReceiver::Timestamp() const {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now_());
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S+0000", &utc);
  return text;
}

void ResultsReceiver::AuditThenReply(audit::Event event, std::string ack, Reply& reply) {
  commit_.Audit(std::move(event), [reply = std::move(reply), ack = std::move(ack)]() mutable { reply(std::move(ack)); });
}

void ResultsReceiver::Oversized(std::string_view start, std::size_t limit, const std::string& peer, Reply reply) {
  AuditThenReply({"hl7", "hl7.receive", "rejected: message too large", {}, peer},
                 hl7::BuildRejectForUnparsable(start,
                                               {ErrorCondition::kApplicationInternalError, "",
                                                fmt::format("the message exceeds {} bytes", limit)},
                                               self_, NextControlId(), Timestamp()),
                 reply);
}

void ResultsReceiver::Handle(std::string_view raw, const std::string& peer, Reply reply) {
  try {
    Receive(raw, peer, reply);
  } catch (const std::exception& e) {  // a bug must cost one AE, never the listener
    Logger("results")->error("event=receive-failed reason=\"{}\"", e.what());
    if (!reply) return;  // handed on already; its completion answers
    reply(hl7::BuildRejectForUnparsable(raw,
                                        {ErrorCondition::kApplicationInternalError, "",
                                         "the message could not be processed"},
                                        self_, NextControlId(), Timestamp()));
  }
}

namespace {

// ISO 8859-1 text as UTF-8 (HL7 delimiters are ASCII, so they are unchanged).
std::string Latin1ToUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// The message, read in the character set MSH-18 names.
Result<hl7::Message> ParseIncoming(std::string_view raw) {
  auto parsed = hl7::Message::Parse(raw);
  if (parsed && parsed->Get("MSH-18") == "8859/1") return hl7::Message::Parse(Latin1ToUtf8(raw));
  return parsed;
}

// "APP|FACILITY" from MSH-3 and MSH-4.
std::string SenderOf(const hl7::Message& message) {
  const hl7::Segment& msh = message.segments().front();
  return message.Get(msh, 3) + "|" + message.Get(msh, 4);
}

// What is kept of a message received at `received_at` (a FHIR instant).
storage::MessageRecord RecordOf(const hl7::Message& message, std::string_view raw, std::string received_at) {
  const hl7::Segment& msh = message.segments().front();
  return {SenderOf(message), message.Get(msh, 10), message.Get(msh, 9, 1) + "^" + message.Get(msh, 9, 2),
          std::move(received_at), std::string(raw)};
}

}  // namespace

std::optional<storage::IncomingMessage> RebuildIncoming(const JournalEntry& entry, storage::ResourceIds ids) {
  auto parsed = ParseIncoming(entry.raw);
  if (!parsed) return std::nullopt;
  auto mapped = MapOru(*parsed, SenderOf(*parsed), ids);
  if (!mapped) return std::nullopt;
  return storage::IncomingMessage{RecordOf(*parsed, entry.raw, entry.received_at), entry.ack,
                                  std::move(mapped->resources)};
}

// Answers through AuditThenReply or the group commit, which take `reply` over.
void ResultsReceiver::Receive(std::string_view raw, const std::string& peer, Reply& reply) {
  auto parsed = ParseIncoming(raw);
  if (!parsed) {
    return AuditThenReply({"hl7", "hl7.receive", "rejected: unparsable", {}, peer},
                          hl7::BuildRejectForUnparsable(raw, {ErrorCondition::kSegmentSequence, "MSH", parsed.error().message},
                                                        self_, NextControlId(), Timestamp()),
                          reply);
  }
  const hl7::Message& message = *parsed;
  const hl7::Segment& msh = message.segments().front();
  const std::string sender = SenderOf(message);
  const std::string control_id = message.Get(msh, 10);
  const std::string type = message.Get(msh, 9, 1), trigger = message.Get(msh, 9, 2);
  const std::string version = message.Get(msh, 12);
  auto answer = [&](AckCode code, AckProblem problem, const std::string& outcome, const std::string& nhs = "") {
    AuditThenReply({"hl7:" + sender, "hl7.receive", outcome,
                    {"message:" + control_id, nhs.empty() ? "" : "patient:" + nhs}, peer},
                   hl7::BuildAck(message, code, problem, self_, NextControlId(), Timestamp()), reply);
  };
  if (type != "ORU") {
    return answer(AckCode::kReject,
                  {ErrorCondition::kUnsupportedMessageType, "MSH^1^9", fmt::format("message type {} is not accepted here; send ORU^R01", type)},
                  "rejected: unsupported type");
  }
  if (trigger != "R01") {
    return answer(AckCode::kReject,
                  {ErrorCondition::kUnsupportedEventCode, "MSH^1^9", fmt::format("ORU^{} is not accepted; send ORU^R01", trigger)},
                  "rejected: unsupported event");
  }
  static const char* const kVersions[] = {"2.3", "2.3.1", "2.4", "2.5", "2.5.1"};
  if (std::find(std::begin(kVersions), std::end(kVersions), version) == std::end(kVersions)) {
    return answer(AckCode::kReject,
                  {ErrorCondition::kUnsupportedVersion, "MSH^1^12", fmt::format("version '{}' is not supported (2.3 to 2.5.1)", version)},
                  "rejected: unsupported version");
  }
  if (control_id.empty()) {
    return answer(AckCode::kError, {ErrorCondition::kRequiredFieldMissing, "MSH^1^10", "MSH-10 (message control id) is empty"},
                  "error: no control id");
  }
  auto mapped = MapOru(message, sender, ids_);
  if (!mapped) return answer(AckCode::kError, mapped.error(), "error: " + mapped.error().text);
  const std::string nhs = mapped->resources.empty() ? "" : mapped->resources.front().nhs_number;
  std::string ack = hl7::BuildAck(message, AckCode::kAccept, {}, self_, NextControlId(), Timestamp());
  storage::IncomingMessage incoming{RecordOf(message, raw, FhirDateTime(Timestamp().substr(0, 14) + "+0000")), ack,
                                    std::move(mapped->resources)};
  audit::Event received{"hl7:" + sender, "hl7.receive", "success", {"message:" + control_id, "patient:" + nhs}, peer};
  commit_.Submit(
      std::move(incoming), std::move(received),
      [this, reply = std::move(reply), ack = std::move(ack), reports = std::move(mapped->reports),
       message = std::move(*parsed), peer, nhs](Result<storage::StoreOutcome> stored) mutable {
        if (!stored) {
          Logger("results")->error("event=store-failed code={}", ToString(stored.error().code));
          const hl7::Segment& msh = message.segments().front();
          return AuditThenReply(
              {"hl7:" + SenderOf(message), "hl7.receive", "error: storage", {"message:" + message.Get(msh, 10), "patient:" + nhs}, peer},
              hl7::BuildAck(message, AckCode::kError,
                            {ErrorCondition::kApplicationInternalError, "", "the message could not be stored; send it again"},
                            self_, NextControlId(), Timestamp()),
              reply);
        }
        if (!stored->stored) return reply(std::move(stored->earlier_ack));  // audited as a duplicate
        if (observer_) observer_(reports, SenderOf(message));
        reply(std::move(ack));
      });
}

}  // namespace dx::results
