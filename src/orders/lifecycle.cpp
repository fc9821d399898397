#include "orders/lifecycle.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "orders/service_request.hpp"

namespace dx::orders {
namespace {

using Kind = Change::Kind;

bool In(const std::string& value, std::initializer_list<const char*> options) {
  for (const char* option : options) {
    if (value == option) return true;
  }
  return false;
}

Result<void> Require(bool present, const char* what, Kind kind) {
  if (present) return {};
  return Fail(ErrorCode::kInvalidInput, fmt::format("{} needs {}", KindName(kind), what));
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kVet: return "vetting";
    case Kind::kBook: return "booking";
    case Kind::kStart: return "starting";
    case Kind::kDiscontinue: return "discontinuing";
    case Kind::kPerform: return "performing";
    case Kind::kReport: return "reporting";
    case Kind::kAcknowledge: return "acknowledging";
    case Kind::kCancel: return "cancelling";
    case Kind::kPatientDelay: return "a patient-initiated delay";
  }
  return "a change";
}

bool Waiting(const std::string& stage) { return In(stage, {stage::kRequested, stage::kVetted, stage::kBooked}); }

Result<Applied> Apply(const storage::OrderRecord& order, const Change& change) {
  const Kind kind = change.kind;
  if (auto ok = Require(!change.actor.empty(), "who made it", kind); !ok) return tl::unexpected(ok.error());
  if (auto ok = Require(change.at > 0, "a time", kind); !ok) return tl::unexpected(ok.error());
  auto refuse = [&](const char* allowed) -> Result<Applied> {
    return Fail(ErrorCode::kConflict, fmt::format("{} is not allowed for a request that is {} (only when {})",
                                                  KindName(kind), order.stage, allowed));
  };
  Applied applied{order, {order.id, "", change.at, change.actor, ""}};
  storage::OrderRecord& o = applied.order;
  nlohmann::json detail = nlohmann::json::object();
  switch (kind) {
    case Kind::kVet: {
      if (order.stage != stage::kRequested) return refuse("requested");
      if (!In(change.decision, {"accept", "reject", "change"})) {
        return Fail(ErrorCode::kInvalidInput,
                    fmt::format("vetting decision '{}' is not accept, reject or change", change.decision));
      }
      if (change.decision == "reject") {
        if (auto ok = Require(!change.reason.empty(), "a reason to reject", kind); !ok) return tl::unexpected(ok.error());
        o.stage = stage::kRejected;
        o.ended_at = change.at;
        applied.event.event = "rejected";
      } else {
        if (change.decision == "change") {
          if (auto ok = Require(!change.new_code.empty(), "the examination to change to", kind); !ok) {
            return tl::unexpected(ok.error());
          }
          detail["from"] = order.code;
          detail["to"] = change.new_code;
          o.code = change.new_code;
          o.code_display = change.new_display;
          o.modality = change.new_modality;
          o.test_group = change.new_test_group;
          applied.event.event = "protocol-changed";
        } else {
          applied.event.event = "vetted";
        }
        o.stage = stage::kVetted;
        o.vetted_at = change.at;
      }
      if (!change.reason.empty()) detail["reason"] = change.reason;
      if (!change.protocol.empty()) detail["protocol"] = change.protocol;
      break;
    }
    case Kind::kBook: {
      if (!In(order.stage, {stage::kVetted, stage::kBooked})) return refuse("vetted or booked");
      if (auto ok = Require(!change.site.empty(), "the site", kind); !ok) return tl::unexpected(ok.error());
      if (auto ok = Require(change.appointment > 0, "the appointment time", kind); !ok) return tl::unexpected(ok.error());
      if (auto ok = Require(!change.accession_number.empty(), "an accession number", kind); !ok) {
        return tl::unexpected(ok.error());
      }
      if (order.stage == stage::kBooked) detail["rebooked_from"] = FormatInstant(order.booked_for);
      o.stage = stage::kBooked;
      o.booked_site = change.site;
      o.booked_for = change.appointment;
      o.booked_at = change.at;
      o.accession_number = change.accession_number;
      detail["site"] = change.site;
      detail["appointment"] = FormatInstant(change.appointment);
      detail["accession_number"] = change.accession_number;
      {
        nlohmann::json details = nlohmann::json::parse(o.details.empty() ? "{}" : o.details, nullptr, false);
        if (!details.is_object()) details = nlohmann::json::object();
        if (change.station.empty()) {
          details.erase("station");
        } else {
          details["station"] = change.station;
          detail["station"] = change.station;
        }
        o.details = details.dump();
      }
      applied.event.event = "booked";
      break;
    }
    case Kind::kStart: {
      // A scanner may start an unbooked, vetted request (walk-in); never a finished or stopped one.
      // The test counts as performed from its start (DM01: the date the test took place).
      if (!In(order.stage, {stage::kVetted, stage::kBooked})) return refuse("vetted or booked");
      o.stage = stage::kInProgress;
      o.performed_at = change.at;
      if (!change.reference.empty()) detail["reference"] = change.reference;
      applied.event.event = "in-progress";
      break;
    }
    case Kind::kDiscontinue: {
      // The procedure was abandoned: the request waits again, booked if it was.
      if (order.stage != stage::kInProgress) return refuse("in-progress");
      o.stage = order.booked_for > 0 ? stage::kBooked : stage::kVetted;
      o.performed_at = 0;
      if (!change.reason.empty()) detail["reason"] = change.reason;
      if (!change.reference.empty()) detail["reference"] = change.reference;
      applied.event.event = "discontinued";
      break;
    }
    case Kind::kPerform: {
      if (!In(order.stage, {stage::kVetted, stage::kBooked, stage::kInProgress})) {
        return refuse("vetted, booked or in-progress");
      }
      o.stage = stage::kPerformed;
      if (order.stage != stage::kInProgress || order.performed_at == 0) o.performed_at = change.at;
      if (!change.reference.empty()) detail["reference"] = change.reference;
      applied.event.event = "performed";
      break;
    }
    case Kind::kReport: {
      if (order.stage != stage::kPerformed) return refuse("performed");
      o.stage = stage::kReported;
      o.reported_at = change.at;
      if (!change.reference.empty()) detail["reference"] = change.reference;
      applied.event.event = "reported";
      break;
    }
    case Kind::kAcknowledge: {
      if (order.stage != stage::kReported) return refuse("reported");
      o.stage = stage::kAcknowledged;
      o.acknowledged_at = change.at;
      applied.event.event = "acknowledged";
      break;
    }
    case Kind::kCancel: {
      if (!Waiting(order.stage)) return refuse("requested, vetted or booked");
      if (auto ok = Require(!change.reason.empty(), "a reason", kind); !ok) return tl::unexpected(ok.error());
      o.stage = stage::kCancelled;
      o.ended_at = change.at;
      detail["reason"] = change.reason;
      applied.event.event = "cancelled";
      break;
    }
    case Kind::kPatientDelay: {
      // The patient cancelled or did not attend the offered appointment: the
      // booking lapses and, as DM01 allows, the clock restarts from today.
      if (order.stage != stage::kBooked) return refuse("booked");
      if (auto ok = Require(!change.reason.empty(), "a reason", kind); !ok) return tl::unexpected(ok.error());
      o.stage = stage::kVetted;
      o.clock_start = change.at;
      detail["reason"] = change.reason;
      detail["clock_restarted"] = FormatInstant(change.at);
      detail["appointment"] = FormatInstant(order.booked_for);
      o.booked_for = 0;
      o.booked_site.clear();
      applied.event.event = "patient-delay";
      break;
    }
  }
  applied.event.detail = detail.empty() ? "" : detail.dump();
  return applied;
}

}  // namespace dx::orders
