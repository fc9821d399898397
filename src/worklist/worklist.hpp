// The Modality Worklist (PS3.4 K): booked requests as worklist items, and
// C-FIND identifiers matched against them. An item carries the patient (NHS
// number as Patient ID), the imaging service request (accession number, the
// request id as placer order number, requesting clinician), the requested
// procedure (the test and its code, Study Instance UID, priority) and one
// scheduled procedure step (station AE title, site, start date and time,
// modality, status). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "storage/api/order_store.hpp"

namespace dx::worklist {

// Tags of the worklist information model (PS3.6) not in dicom/attributes.hpp.
namespace tags {
inline constexpr dicom::Tag kScheduledProcedureStepSequence{0x0040, 0x0100};
inline constexpr dicom::Tag kScheduledStationAeTitle{0x0040, 0x0001};
inline constexpr dicom::Tag kScheduledStartDate{0x0040, 0x0002};
inline constexpr dicom::Tag kScheduledStartTime{0x0040, 0x0003};
inline constexpr dicom::Tag kScheduledPerformingPhysician{0x0040, 0x0006};
inline constexpr dicom::Tag kScheduledStepDescription{0x0040, 0x0007};
inline constexpr dicom::Tag kScheduledStepId{0x0040, 0x0009};
inline constexpr dicom::Tag kScheduledStepLocation{0x0040, 0x0011};
inline constexpr dicom::Tag kScheduledStepStatus{0x0040, 0x0020};
inline constexpr dicom::Tag kRequestedProcedureId{0x0040, 0x1001};
inline constexpr dicom::Tag kReasonForRequestedProcedure{0x0040, 0x1002};
inline constexpr dicom::Tag kRequestedProcedurePriority{0x0040, 0x1003};
inline constexpr dicom::Tag kRequestedProcedureDescription{0x0032, 0x1060};
inline constexpr dicom::Tag kRequestedProcedureCodeSequence{0x0032, 0x1064};
inline constexpr dicom::Tag kRequestingPhysician{0x0032, 0x1032};
inline constexpr dicom::Tag kRequestingService{0x0032, 0x1033};
inline constexpr dicom::Tag kPlacerOrderNumber{0x0040, 0x2016};
inline constexpr dicom::Tag kCodeValue{0x0008, 0x0100};
inline constexpr dicom::Tag kCodingSchemeDesignator{0x0008, 0x0102};
inline constexpr dicom::Tag kCodeMeaning{0x0008, 0x0104};
}  // namespace tags

// What the store is asked for, narrowed from an identifier's matching keys.
struct WorklistQuery {
  dicom::Attributes identifier;
  // Single values of Scheduled Procedure Step Location, Modality, Accession Number
  // and Patient ID, and the start-date range as [from, to) in local time.
  storage::ScheduledSearch scheduled;
};

// Checks an identifier and narrows it. kInvalidInput naming the key when a
// date, time or range is malformed, a key has the wrong VR, or the Scheduled
// Procedure Step Sequence has more than one item.
Result<WorklistQuery> ParseQuery(const dicom::Attributes& identifier);

// Every attribute dxhub knows of the request as a worklist item.
dicom::Attributes ItemFor(const storage::OrderRecord& order);

// Whether `item` satisfies every matching key of `identifier` (PS3.4 C.2.2.2):
// single value, wildcard (* and ?), date and time ranges, UID lists, person
// names case-insensitively, and sequence matching on the item's first item.
// Keys the item does not carry are return keys only.
bool Matches(const dicom::Attributes& item, const dicom::Attributes& identifier);

// The response: every key of the identifier, valued from `item` ("" when
// unknown); a sequence key with no item returns the whole sequence.
dicom::Attributes Project(const dicom::Attributes& item, const dicom::Attributes& identifier);

// Unix seconds of a DICOM date (YYYYMMDD) and time (HH[MM[SS]], may be "") in the
// server's local time, `days` later; 0 when malformed.
std::int64_t LocalInstant(const std::string& date, const std::string& time, int days = 0);

// The Study Instance UID of a request: its 128-bit id as a 2.25 UID (PS3.5 B.2).
std::string StudyUidFor(const std::string& order_id);

}  // namespace dx::worklist
