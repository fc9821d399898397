// OrderStore: diagnostic requests (FHIR ServiceRequest) with the times of their
// clock (requested, vetted, booked, performed, reported, acknowledged) in columns,
// so waiting lists are computed from the records, and every state change kept as
// an event with its time and who made it. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::storage {

// A request as stored. Times are Unix seconds (UTC); 0 means "not yet".
struct OrderRecord {
  std::string id;
  int version = 0;            // set by the store: 1 on create, +1 on every change
  std::string last_updated;   // set by the store, UTC ISO 8601
  std::string nhs_number;
  std::string patient_name;   // DICOM PN form, FAMILY^GIVEN
  std::string birth_date;     // YYYYMMDD
  std::string sex;            // M, F, O or ""
  std::string requester;      // the requesting clinician (identifier or name)
  std::string practice;       // ODS code of the requesting organisation
  std::string performer_site; // ODS code of the site asked to perform the test
  std::string code;           // the investigation's code (knowledge/investigations.toml)
  std::string code_display;
  std::string modality;       // DICOM modality of the test, "" for non-imaging tests
  std::string test_group;     // DM01 diagnostic test group, "" when outside DM01
  std::string priority;       // routine, urgent or two-week-wait
  std::string activity = "waiting-list";  // DM01 activity: waiting-list, planned or unscheduled
  std::string stage;          // requested, vetted, booked, in-progress, performed, reported, acknowledged,
                              // rejected, cancelled
  std::string accession_number;  // assigned when booked
  std::string booked_site;
  std::int64_t booked_for = 0;   // the appointment
  std::int64_t requested_at = 0;
  std::int64_t clock_start = 0;  // requested_at, or the last restart allowed by DM01 rules
  std::int64_t vetted_at = 0;
  std::int64_t booked_at = 0;
  std::int64_t performed_at = 0;
  std::int64_t reported_at = 0;
  std::int64_t acknowledged_at = 0;
  std::int64_t ended_at = 0;     // rejected or cancelled
  std::string details = "{}";    // JSON: clinical indication, notes, decision support, vetting
};

// One state change.
struct OrderEvent {
  std::string order_id;
  std::string event;   // requested, vetted, rejected, protocol-changed, booked, in-progress, discontinued,
                       // performed, reported, acknowledged, cancelled, patient-delay, updated
  std::int64_t at = 0;
  std::string actor;
  std::string detail;  // JSON object, or ""
};

struct OrderSearch {
  std::string nhs_number;
  std::vector<std::string> stages;  // any of; empty: all
  std::string requester;
  std::string performer_site;
  std::string priority;
  std::int64_t requested_from = 0;  // inclusive; 0: open
  std::int64_t requested_to = 0;    // exclusive; 0: open
  int count = 50;
  int offset = 0;
  bool oldest_first = false;        // default: newest first
};

struct OrderPage {
  int total = 0;
  std::vector<OrderRecord> orders;
};

// What the modality worklist asks for; empty or 0 fields do not narrow.
struct ScheduledSearch {
  std::string site;              // booked site
  std::string modality;
  std::int64_t from = 0, to = 0;  // appointment in [from, to)
  std::string accession_number;
  std::string nhs_number;
};

// The clock columns of one request: what waiting-list figures are computed from.
struct OrderClock {
  std::string test_group;
  std::string performer_site;
  std::string priority;
  std::string activity;
  std::string stage;
  std::int64_t requested_at = 0;
  std::int64_t clock_start = 0;
  std::int64_t performed_at = 0;
  std::int64_t reported_at = 0;
  std::int64_t acknowledged_at = 0;
  std::int64_t ended_at = 0;
};

// A Modality Performed Procedure Step (PS3.4 F.7) as a modality reported it.
struct ProcedureStep {
  std::string uid;                // its SOP Instance UID
  int version = 0;                // set by the store: 1 on create, +1 on every change
  std::string status;             // IN PROGRESS, COMPLETED or DISCONTINUED
  std::string order_id;           // the request it performs; "" when unscheduled or unknown
  std::string station_ae;         // the modality that created it
  std::int64_t started_at = 0;
  std::int64_t ended_at = 0;
  std::string attributes = "{}";  // its attributes in the DICOM JSON model
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;

  // Stores new requests with their first events (same order). Fails with
  // kConflict when an id or accession number exists already; nothing is stored.
  virtual Result<void> Create(const std::vector<OrderRecord>& orders, const std::vector<OrderEvent>& events) = 0;
  virtual Result<std::optional<OrderRecord>> Read(const std::string& id) = 0;
  virtual Result<std::optional<OrderRecord>> FindByAccession(const std::string& accession_number) = 0;
  // Replaces the request when its stored version is still `order.version` and
  // records `event`, in one transaction. false: someone changed it first.
  // Fails with kConflict when the accession number belongs to another request.
  virtual Result<bool> Update(const OrderRecord& order, const OrderEvent& event) = 0;
  virtual Result<std::vector<OrderEvent>> Events(const std::string& id) = 0;
  virtual Result<OrderPage> Search(const OrderSearch& search) = 0;
  // Booked (or in-progress) requests for the modality worklist, by appointment time.
  virtual Result<std::vector<OrderRecord>> Booked(const ScheduledSearch& search) = 0;
  // Every request's clock, in no particular order, streamed to `visit`.
  virtual Result<void> ScanClocks(const std::function<void(const OrderClock&)>& visit) = 0;

  // Procedure steps. CreateStep fails with kConflict when the UID exists.
  virtual Result<void> CreateStep(const ProcedureStep& step) = 0;
  virtual Result<std::optional<ProcedureStep>> ReadStep(const std::string& uid) = 0;
  // Replaces the step when its stored version is still `step.version`; false otherwise.
  virtual Result<bool> UpdateStep(const ProcedureStep& step) = 0;
};

}  // namespace dx::storage
