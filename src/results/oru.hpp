// ORU^R01 (HL7 v2.3–v2.5.1 observation results) mapped to FHIR R4 resources: one
// DiagnosticReport per OBR with one Observation per OBX. Values by OBX-2 type:
// NM as valueQuantity (units from OBX-6), ST/TX/FT as valueString, CE/CWE as
// valueCodeableConcept, SN as a quantity with comparator, a range or a ratio;
// reference ranges from OBX-7, interpretation from the abnormal flags (OBX-8),
// result status from OBR-25 and OBX-11, comments from NTE. The subject is the NHS
// number from PID-3 (Modulus 11 checked); the report is linked to its order by
// the placer and filler order numbers. A report's id is derived from the sender
// and its order (filler, else placer number) and test code, so a corrected result
// (status C) arrives as a new version of the same report (ResourceIds).
// Times without a UTC offset are read in the server's time zone (TZ).
#pragma once

#include <string>
#include <vector>

#include "hl7/ack.hpp"
#include "hl7/message.hpp"
#include "storage/api/result_store.hpp"

namespace dx::results {

// A report and the request it answers, from OBR-2/OBR-3 (else ORC-2/ORC-3).
struct ReportForOrder {
  std::string report_id;
  std::string nhs_number;  // the report's subject
  std::string placer;      // placer order number: the ServiceRequest id, for requests placed here
  std::string filler;      // filler order number: the accession number, for tests booked here
  std::string status;      // the report's FHIR status
};

struct MappedOru {
  std::vector<storage::ResourceRecord> resources;
  std::vector<ReportForOrder> reports;  // one per OBR, in order
};

// The resources for an ORU^R01 message from `sender` ("APP|FACILITY"), or the
// problem to acknowledge with AE (naming the segment and field), with the store's
// way of making ids (storage::ResourceIds).
tl::expected<MappedOru, hl7::AckProblem> MapOru(const hl7::Message& message, const std::string& sender,
                                                storage::ResourceIds ids);

// An HL7 v2 TS (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) as a FHIR dateTime in
// UTC ("2026-11-20T09:30:00Z", or "2026-11-20" for a date alone); "" when malformed.
std::string FhirDateTime(const std::string& ts);

}  // namespace dx::results
