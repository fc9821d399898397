// The worklist and procedure-step services of the DIMSE listener: Modality
// Worklist C-FIND over booked requests, and Modality Performed Procedure Step
// N-CREATE / N-SET (PS3.4 F.7) moving the request along its clock: in progress
// when the step is created, performed when it is completed, booked again when
// it is discontinued. Every access is audited. Thread-safe.
#pragma once

#include <memory>

#include "audit/audit_trail.hpp"
#include "core/logging.hpp"
#include "dicom/dimse_server.hpp"
#include "orders/pathway.hpp"
#include "storage/api/order_store.hpp"

namespace dx::worklist {

// Tags of a Modality Performed Procedure Step (PS3.6).
namespace mpps {
inline constexpr dicom::Tag kPerformedStationAeTitle{0x0040, 0x0241};
inline constexpr dicom::Tag kStartDate{0x0040, 0x0244};
inline constexpr dicom::Tag kStartTime{0x0040, 0x0245};
inline constexpr dicom::Tag kEndDate{0x0040, 0x0250};
inline constexpr dicom::Tag kEndTime{0x0040, 0x0251};
inline constexpr dicom::Tag kStatus{0x0040, 0x0252};
inline constexpr dicom::Tag kStepId{0x0040, 0x0253};
inline constexpr dicom::Tag kScheduledStepAttributesSequence{0x0040, 0x0270};
inline constexpr dicom::Tag kDiscontinuationReasonSequence{0x0040, 0x0281};
}  // namespace mpps

class ScheduleService : public dicom::ScheduleHandlers {
 public:
  ScheduleService(storage::OrderStore& store, orders::Pathway& pathway, audit::AuditTrail& audit);

  Result<std::vector<dicom::Attributes>> FindWorklist(const dicom::AssociationInfo& association,
                                                      const dicom::Attributes& identifier) override;
  dicom::ProcedureStepResponse CreateProcedureStep(const dicom::AssociationInfo& association,
                                                   const std::string& sop_instance_uid,
                                                   const dicom::Attributes& attributes) override;
  dicom::ProcedureStepResponse SetProcedureStep(const dicom::AssociationInfo& association,
                                                const std::string& sop_instance_uid,
                                                const dicom::Attributes& modification) override;

 private:
  // Moves the step's request along; a request that has moved on already is left as it is.
  void MoveRequest(const storage::ProcedureStep& step, orders::Change change);

  storage::OrderStore& store_;
  orders::Pathway& pathway_;
  audit::AuditTrail& audit_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace dx::worklist
