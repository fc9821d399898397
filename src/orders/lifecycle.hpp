// The life of a diagnostic request and its clock: which changes are allowed in
// which stage, and what each records. Pure functions over storage::OrderRecord;
// thread-safe.
//
//   requested ─vet─▶ vetted ─book─▶ booked ─start─▶ in-progress ─perform─▶ performed ─report─▶ reported
//       │  └─reject─▶ rejected        │  ▲  ▲             │                                          │
//       └──────┴──────cancel──────────┘  │  └─discontinue─┘      acknowledged ◀─acknowledge───────────┘
//                      patient-delay ────┘ (back to vetted, clock restarted)
// A booked request may also be performed directly (its first image arrives
// with no procedure step reported).
//
// DM01 rules on the clock (NHS England, Diagnostics Waiting Times and Activity
// guidance): the wait runs from the request's receipt; when the patient cancels
// or does not attend an offered appointment the clock restarts from that date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "storage/api/order_store.hpp"

namespace dx::orders {

namespace stage {
inline constexpr char kRequested[] = "requested";
inline constexpr char kVetted[] = "vetted";
inline constexpr char kBooked[] = "booked";
inline constexpr char kInProgress[] = "in-progress";
inline constexpr char kPerformed[] = "performed";
inline constexpr char kReported[] = "reported";
inline constexpr char kAcknowledged[] = "acknowledged";
inline constexpr char kRejected[] = "rejected";
inline constexpr char kCancelled[] = "cancelled";
}  // namespace stage

// What a change is. Fields not used by a kind are ignored.
struct Change {
  enum class Kind { kVet, kBook, kStart, kDiscontinue, kPerform, kReport, kAcknowledge, kCancel, kPatientDelay };
  Kind kind = Kind::kVet;
  std::string actor;   // who (required)
  std::int64_t at = 0; // when (Unix seconds; required)
  // kVet: "accept", "reject" or "change" (a different examination, then accepted).
  std::string decision;
  std::string reason;  // kVet reject, kCancel, kPatientDelay (each required); a change's or a discontinuation's why
  std::string new_code, new_display, new_modality, new_test_group;  // kVet change
  std::string protocol;  // kVet: the protocol chosen, free text
  std::string site;      // kBook (required)
  std::int64_t appointment = 0;  // kBook (required)
  std::string accession_number;  // kBook (required: assigned by the caller)
  std::string station;           // kBook: the modality's AE title, when booked to one
  std::string reference;         // kStart, kDiscontinue, kPerform: what showed it (MPPS, study); kReport: the report
};

const char* KindName(Change::Kind kind);

// The request after `change`, and the event to record. Fails with kConflict
// naming the stage when the change is not allowed there (a cancelled request
// cannot be reported), kInvalidInput when a required field is missing.
struct Applied {
  storage::OrderRecord order;
  storage::OrderEvent event;
};
Result<Applied> Apply(const storage::OrderRecord& order, const Change& change);

// Whether the request still waits for its test (DM01 waiting list).
bool Waiting(const std::string& stage);

}  // namespace dx::orders
