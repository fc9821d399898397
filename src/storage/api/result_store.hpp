// ResultStore: laboratory results as FHIR R4 resources (DiagnosticReport and
// Observation), every version kept, the HL7 v2 messages they came from (so a
// repeated message is acknowledged again without being stored twice), and the GP
// inbox: who acknowledged or filed which report, and urgent notifications.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::storage {

// One resource as stored: the search columns beside the resource's JSON (without
// `meta`, which the store owns: versionId and lastUpdated are added on read).
struct ResourceRecord {
  std::string type;         // "DiagnosticReport" or "Observation"
  std::string id;           // logical id; a record with a known id becomes its next version
  std::string nhs_number;   // the subject's NHS number (validated before storing)
  std::string status;       // FHIR status code
  std::string category;     // first category code ("LAB", "MB", "HM", "CH", ...)
  std::string code;         // main code as system|code
  std::string effective;    // clinically relevant time, ISO 8601 (search and sort by date)
  std::string report_id;    // Observation: the DiagnosticReport it belongs to
  std::string practice;     // ODS code of the requesting practice (the inbox it lands in)
  bool abnormal = false;    // any abnormal flag
  bool urgent = false;      // a critical flag (HH, LL, AA, panic): raises a notification
  std::string json;         // the resource
};

// A resource read back.
struct StoredResource {
  ResourceRecord record;
  int version = 1;
  std::string last_updated;  // UTC ISO 8601
};

// The HL7 v2 message a set of resources came from.
struct MessageRecord {
  std::string sender;        // MSH-3 and MSH-4 joined by '|': the sending application and facility
  std::string control_id;    // MSH-10, unique per sender
  std::string message_type;  // "ORU^R01"
  std::string received_at;   // UTC ISO 8601
  std::string raw;           // the message as received
};

// A message ready to store: the message, the acknowledgement that will be sent
// for it, and the resources made from it.
struct IncomingMessage {
  MessageRecord message;
  std::string ack;
  std::vector<ResourceRecord> resources;
};

// What storing one message did.
struct StoreOutcome {
  bool stored = false;      // false: the same message (sender, control id) was stored before; nothing changed
  std::string earlier_ack;  // when not stored: the acknowledgement sent the first time
};

// A FHIR search, already validated: every field set narrows the result.
struct ResourceSearch {
  std::string type;
  std::string nhs_number;
  std::vector<std::string> statuses;         // any of
  std::vector<std::string> categories;       // any of
  std::vector<std::string> codes;            // any of (system|code, or a bare code matching any system)
  // Bounds on `effective`, all of: (">=" or "<", ISO 8601 prefix compared as text,
  // so "2026-11-20" starts that day and "2026-11-21" ends it).
  std::vector<std::pair<std::string, std::string>> effective;
  bool sort_descending = true;               // by effective, then id
  std::string sort_by = "effective";         // "effective" or "last_updated"
  int count = 50;
  int offset = 0;
};

struct SearchPage {
  std::int64_t total = 0;
  std::vector<StoredResource> resources;
};

// A report in a practice's results inbox.
struct InboxEntry {
  StoredResource report;
  std::string state;      // "new", "acknowledged" or "filed"
  std::string actor;      // who acknowledged or filed it last
  std::string acted_at;
  std::string comment;
};

struct InboxAction {
  std::string report_id;
  std::string action;     // "acknowledged" or "filed"
  std::string actor;      // e.g. "Practitioner/G1234567"
  std::string at;         // UTC ISO 8601
  std::string comment;
};

// Raised when a report with an urgent (critical) flag is stored.
struct Notification {
  std::int64_t id = 0;
  std::string report_id;
  std::string practice;
  std::string nhs_number;
  std::string raised_at;
  std::string reason;
  bool acknowledged = false;  // the report has since been acknowledged
};

// How the results mapping (results/oru.hpp) makes a report's id from its sender,
// order number and test code. kOrdered keeps a laboratory's order numbers in
// sequence in the index of ids, so new results land at its end instead of at
// random places (cheaper to write); kHashed is a hash, as every result was stored
// before kOrdered existed. A store that held results then keeps kHashed, so that a
// correction still finds the result it corrects; a new store uses kOrdered.
enum class ResourceIds { kHashed, kOrdered };

class ResultStore {
 public:
  virtual ~ResultStore() = default;

  // Which ids this store's results get (fixed when the store is created).
  virtual Result<ResourceIds> ResourceIdScheme() = 0;

  // The acknowledgement sent for an earlier message from `sender` with this control id.
  virtual Result<std::optional<std::string>> FindAck(const std::string& sender, const std::string& control_id) = 0;

  // Stores each message with its acknowledgement and resources (new versions of
  // those that exist), all in one transaction, durable when it returns (per the
  // store's durability setting): one commit for many messages is what lets a
  // listener acknowledge thousands a second. A message already stored (the same
  // sender and control id, earlier or earlier in `messages`) changes nothing.
  // An error means nothing at all was stored.
  virtual Result<std::vector<StoreOutcome>> StoreMessages(const std::vector<IncomingMessage>& messages) = 0;

  // StoreMessages in two halves, for a caller that lets one batch wait for the
  // disk while the next batch's transaction runs (results/group_commit.hpp).
  // CommitMessages returns once the transaction has committed: readable, and safe
  // from a crash of this process, but perhaps not yet on disk. Sync returns once
  // every transaction committed before it was called is durable (per the store's
  // durability setting); concurrent calls share the work. A store whose commits
  // are durable when they return has nothing to split.
  virtual Result<std::vector<StoreOutcome>> CommitMessages(const std::vector<IncomingMessage>& messages) {
    return StoreMessages(messages);
  }
  virtual Result<void> Sync() { return {}; }

  // One message; kConflict when it was stored before.
  Result<void> StoreMessage(const MessageRecord& message, const std::string& ack,
                            const std::vector<ResourceRecord>& resources) {
    auto outcomes = StoreMessages({IncomingMessage{message, ack, resources}});
    if (!outcomes) return tl::unexpected(outcomes.error());
    if (!outcomes->front().stored) {
      return Fail(ErrorCode::kConflict, "message " + message.control_id + " from " + message.sender + " is already stored");
    }
    return {};
  }

  // The current version of a resource (or version `version` when non-zero), or nullopt.
  virtual Result<std::optional<StoredResource>> Read(const std::string& type, const std::string& id, int version) = 0;
  // Every version, newest first.
  virtual Result<std::vector<StoredResource>> History(const std::string& type, const std::string& id) = 0;
  virtual Result<SearchPage> Search(const ResourceSearch& search) = 0;

  // Reports for a practice: new ones first (urgent, then abnormal, then newest),
  // then handled ones when `include_handled`; at most `limit`.
  virtual Result<std::vector<InboxEntry>> Inbox(const std::string& practice, bool include_handled, int limit) = 0;
  // Records an acknowledgement or filing; kNotFound for an unknown report.
  virtual Result<void> Act(const InboxAction& action) = 0;
  // Notifications for a practice, newest first; only those whose report is still new
  // unless `include_acknowledged`.
  virtual Result<std::vector<Notification>> Notifications(const std::string& practice, bool include_acknowledged) = 0;
};

}  // namespace dx::storage
