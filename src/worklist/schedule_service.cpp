#include "worklist/schedule_service.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dicom/json_model.hpp"
#include "worklist/worklist.hpp"

namespace dx::worklist {
namespace {

using dicom::ProcedureStepResponse;
namespace status = dicom::status;

constexpr char kInProgress[] = "IN PROGRESS";
constexpr char kCompleted[] = "COMPLETED";
constexpr char kDiscontinued[] = "DISCONTINUED";

ProcedureStepResponse Refuse(std::uint16_t code, std::string comment) { return {code, std::move(comment), {}}; }

// The first required attribute that is absent or empty, as a failure; nothing when all are there.
std::optional<ProcedureStepResponse> Missing(const dicom::Attributes& attributes,
                                             std::initializer_list<std::pair<dicom::Tag, const char*>> required) {
  for (const auto& [tag, name] : required) {
    if (!attributes.Has(tag)) {
      return Refuse(status::kMissingAttribute, fmt::format("{} ({}) is missing", name, dicom::ToString(tag)));
    }
    if (attributes.Get(tag).empty() && !attributes.Items(tag)) {
      return Refuse(status::kMissingAttributeValue, fmt::format("{} ({}) is empty", name, dicom::ToString(tag)));
    }
  }
  return std::nullopt;
}

std::string Reason(const dicom::Attributes& attributes) {
  const auto* reasons = attributes.Items(mpps::kDiscontinuationReasonSequence);
  if (!reasons || reasons->empty()) return "";
  return reasons->front().Get(tags::kCodeMeaning);
}

}  // namespace

ScheduleService::ScheduleService(storage::OrderStore& store, orders::Pathway& pathway, audit::AuditTrail& audit)
    : store_(store), pathway_(pathway), audit_(audit), log_(Logger("worklist")) {}

Result<std::vector<dicom::Attributes>> ScheduleService::FindWorklist(const dicom::AssociationInfo& association,
                                                                     const dicom::Attributes& identifier) {
  auto query = ParseQuery(identifier);
  if (!query) {
    audit_.Record({association.calling_ae, "dicom.worklist-find", query.error().message, {}, association.peer_address});
    return tl::unexpected(query.error());
  }
  auto booked = store_.Booked(query->scheduled);
  if (!booked) return tl::unexpected(booked.error());
  std::vector<dicom::Attributes> matches;
  std::vector<std::string> entities;
  for (const auto& order : *booked) {
    const dicom::Attributes item = ItemFor(order);
    if (!Matches(item, identifier)) continue;
    matches.push_back(Project(item, identifier));
    entities.push_back("ServiceRequest/" + order.id);
    entities.push_back("patient:" + order.nhs_number);
  }
  audit_.Record({association.calling_ae, "dicom.worklist-find", fmt::format("success matches={}", matches.size()),
                 entities, association.peer_address});
  log_->debug("event=worklist-find calling_ae={} candidates={} matches={}", association.calling_ae, booked->size(),
              matches.size());
  return matches;
}

void ScheduleService::MoveRequest(const storage::ProcedureStep& step, orders::Change change) {
  if (step.order_id.empty()) return;
  auto moved = pathway_.Move(step.order_id, std::move(change));
  if (!moved) {
    // The request moved on by another way (its images, a cancellation): the step still stands.
    log_->info("event=procedure-step-not-applied request={} reason=\"{}\"", step.order_id, moved.error().message);
  }
}

ProcedureStepResponse ScheduleService::CreateProcedureStep(const dicom::AssociationInfo& association,
                                                           const std::string& sop_instance_uid,
                                                           const dicom::Attributes& attributes) {
  auto answer = [&]() -> ProcedureStepResponse {
    if (auto missing = Missing(attributes, {{mpps::kStatus, "Performed Procedure Step Status"},
                                            {mpps::kStartDate, "Performed Procedure Step Start Date"},
                                            {mpps::kStartTime, "Performed Procedure Step Start Time"},
                                            {mpps::kScheduledStepAttributesSequence, "Scheduled Step Attributes Sequence"}})) {
      return *missing;
    }
    if (attributes.Get(mpps::kStatus) != kInProgress) {
      return Refuse(status::kInvalidAttributeValue,
                    fmt::format("a new procedure step is IN PROGRESS, not '{}'", attributes.Get(mpps::kStatus)));
    }
    storage::ProcedureStep step;
    step.uid = sop_instance_uid;
    step.status = kInProgress;
    step.station_ae = association.calling_ae;
    step.started_at = LocalInstant(attributes.Get(mpps::kStartDate), attributes.Get(mpps::kStartTime));
    if (step.started_at == 0) {
      return Refuse(status::kInvalidAttributeValue, "Performed Procedure Step Start Date and Time are not a date and time");
    }
    step.attributes = dicom::ToDicomJson(attributes).dump();
    for (const auto& scheduled : *attributes.Items(mpps::kScheduledStepAttributesSequence)) {
      auto order = store_.FindByAccession(scheduled.Get(dicom::tags::kAccessionNumber));
      if (!order) return Refuse(status::kProcessingFailure, order.error().message);
      if (*order) {
        step.order_id = (*order)->id;
        break;
      }
    }
    if (auto existing = store_.ReadStep(step.uid); !existing || *existing) {
      return existing ? Refuse(status::kDuplicateInstance, fmt::format("procedure step {} exists already", step.uid))
                      : Refuse(status::kProcessingFailure, existing.error().message);
    }
    if (auto created = store_.CreateStep(step); !created) {
      return Refuse(created.error().code == ErrorCode::kConflict ? status::kDuplicateInstance : status::kProcessingFailure,
                    created.error().message);
    }
    orders::Change change;
    change.kind = orders::Change::Kind::kStart;
    change.actor = association.calling_ae;
    change.at = step.started_at;
    change.reference = "MPPS " + step.uid;
    MoveRequest(step, change);
    return {};
  }();
  audit_.Record({association.calling_ae, "dicom.mpps-create",
                 answer.status == status::kSuccess ? "success" : answer.error_comment,
                 {"mpps:" + sop_instance_uid}, association.peer_address});
  return answer;
}

ProcedureStepResponse ScheduleService::SetProcedureStep(const dicom::AssociationInfo& association,
                                                        const std::string& sop_instance_uid,
                                                        const dicom::Attributes& modification) {
  auto answer = [&]() -> ProcedureStepResponse {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto found = store_.ReadStep(sop_instance_uid);
      if (!found) return Refuse(status::kProcessingFailure, found.error().message);
      if (!*found) return Refuse(status::kNoSuchInstance, fmt::format("no procedure step {}", sop_instance_uid));
      storage::ProcedureStep step = **found;
      if (step.status != kInProgress) {
        return Refuse(status::kProcessingFailure,
                      fmt::format("the procedure step is {} and may no longer be updated", step.status));
      }
      nlohmann::json merged = nlohmann::json::parse(step.attributes, nullptr, false);
      if (!merged.is_object()) merged = nlohmann::json::object();
      merged.update(dicom::ToDicomJson(modification));
      const std::string new_status = modification.Has(mpps::kStatus) ? modification.Get(mpps::kStatus) : step.status;
      if (new_status != kInProgress && new_status != kCompleted && new_status != kDiscontinued) {
        return Refuse(status::kInvalidAttributeValue,
                      fmt::format("Performed Procedure Step Status '{}' is not IN PROGRESS, COMPLETED or DISCONTINUED",
                                  new_status));
      }
      if (new_status != kInProgress) {
        auto text = [&](dicom::Tag tag) {
          const std::string key = fmt::format("{:04X}{:04X}", tag.group, tag.element);
          const auto& entry = merged.contains(key) ? merged[key] : nlohmann::json();
          return entry.contains("Value") && !entry["Value"].empty() && entry["Value"][0].is_string()
                     ? entry["Value"][0].get<std::string>()
                     : std::string();
        };
        step.ended_at = LocalInstant(text(mpps::kEndDate), text(mpps::kEndTime));
        if (step.ended_at == 0) {
          return Refuse(status::kMissingAttributeValue,
                        fmt::format("a {} step needs Performed Procedure Step End Date and Time", new_status));
        }
      }
      step.status = new_status;
      step.attributes = merged.dump();
      auto updated = store_.UpdateStep(step);
      if (!updated) return Refuse(status::kProcessingFailure, updated.error().message);
      if (!*updated) continue;  // changed meanwhile: read again
      if (new_status != kInProgress) {
        orders::Change change;
        change.kind = new_status == kCompleted ? orders::Change::Kind::kPerform : orders::Change::Kind::kDiscontinue;
        change.actor = association.calling_ae;
        change.at = step.ended_at;
        change.reference = "MPPS " + step.uid;
        change.reason = Reason(modification);
        MoveRequest(step, change);
      }
      return {};
    }
    return Refuse(status::kProcessingFailure, "the procedure step kept changing; try again");
  }();
  audit_.Record({association.calling_ae, "dicom.mpps-set",
                 answer.status == status::kSuccess ? "success" : answer.error_comment, {"mpps:" + sop_instance_uid},
                 association.peer_address});
  return answer;
}

}  // namespace dx::worklist
