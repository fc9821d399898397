#include "dicom/procedure_step_scu.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpath.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <fmt/format.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {

struct ProcedureStepScu::Impl {
  Impl(std::string ae, int timeout) : calling_ae(std::move(ae)), timeout_seconds(timeout) {}
  std::string calling_ae;
  int timeout_seconds;
  detail::OutboundAssociation association;
  T_ASC_PresentationContextID context = 0;

  Result<Answer> Exchange(T_DIMSE_Message& request, const Attributes& attributes);
};

ProcedureStepScu::ProcedureStepScu(std::string calling_ae, int timeout_seconds)
    : impl_(std::make_unique<Impl>(std::move(calling_ae), timeout_seconds)) {
  detail::InitializeToolkit();
}

ProcedureStepScu::~ProcedureStepScu() = default;

Result<void> ProcedureStepScu::Connect(const RemotePeer& peer) {
  auto opened = impl_->association.Open(
      impl_->calling_ae, peer, impl_->timeout_seconds,
      {{UID_ModalityPerformedProcedureStepSOPClass,
        {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}}});
  if (!opened) return opened;
  impl_->context =
      ASC_findAcceptedPresentationContextID(impl_->association.get(), UID_ModalityPerformedProcedureStepSOPClass);
  if (impl_->context == 0) {
    Release();
    return Fail(ErrorCode::kRefused, "the peer refused Modality Performed Procedure Step");
  }
  return {};
}

Result<ProcedureStepScu::Answer> ProcedureStepScu::Impl::Exchange(T_DIMSE_Message& request,
                                                                  const Attributes& attributes) {
  T_ASC_Association* assoc = association.get();
  std::unique_ptr<DcmDataset> data(detail::ToDataset(attributes));
  OFCondition cond = DIMSE_sendMessageUsingMemoryData(assoc, context, &request, nullptr, data.get(), nullptr, nullptr);
  if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("sending the request failed: {}", cond.text()));
  T_DIMSE_Message response{};
  T_ASC_PresentationContextID received_context = 0;
  DcmDataset* status_detail = nullptr;
  cond = DIMSE_receiveCommand(assoc, DIMSE_BLOCKING, 0, &received_context, &response, &status_detail);
  std::unique_ptr<DcmDataset> detail_owner(status_detail);
  if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("no response: {}", cond.text()));
  Answer answer;
  T_DIMSE_DataSetType data_type = DIMSE_DATASET_NULL;
  if (response.CommandField == DIMSE_N_CREATE_RSP) {
    answer.status = response.msg.NCreateRSP.DimseStatus;
    answer.instance_uid = response.msg.NCreateRSP.AffectedSOPInstanceUID;
    data_type = response.msg.NCreateRSP.DataSetType;
  } else if (response.CommandField == DIMSE_N_SET_RSP) {
    answer.status = response.msg.NSetRSP.DimseStatus;
    answer.instance_uid = response.msg.NSetRSP.AffectedSOPInstanceUID;
    data_type = response.msg.NSetRSP.DataSetType;
  } else {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("unexpected response command 0x{:04x}", unsigned(response.CommandField)));
  }
  if (status_detail) {
    OFString comment;
    if (status_detail->findAndGetOFString(DCM_ErrorComment, comment).good()) answer.error_comment = comment.c_str();
  }
  if (data_type != DIMSE_DATASET_NULL) {
    DcmDataset* dataset = nullptr;
    cond = DIMSE_receiveDataSetInMemory(assoc, DIMSE_BLOCKING, 0, &received_context, &dataset, nullptr, nullptr);
    std::unique_ptr<DcmDataset> owner(dataset);
    if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("no response data set: {}", cond.text()));
    answer.attributes = detail::ToAttributes(*dataset);
  }
  return answer;
}

Result<ProcedureStepScu::Answer> ProcedureStepScu::Create(const std::string& sop_instance_uid,
                                                          const Attributes& attributes) {
  T_ASC_Association* assoc = impl_->association.get();
  if (!assoc) return Fail(ErrorCode::kInternal, "not connected");
  T_DIMSE_Message request{};
  request.CommandField = DIMSE_N_CREATE_RQ;
  T_DIMSE_N_CreateRQ& rq = request.msg.NCreateRQ;
  rq.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_ModalityPerformedProcedureStepSOPClass, sizeof rq.AffectedSOPClassUID);
  if (!sop_instance_uid.empty()) {
    OFStandard::strlcpy(rq.AffectedSOPInstanceUID, sop_instance_uid.c_str(), sizeof rq.AffectedSOPInstanceUID);
    rq.opts = O_NCREATE_AFFECTEDSOPINSTANCEUID;
  }
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  return impl_->Exchange(request, attributes);
}

Result<ProcedureStepScu::Answer> ProcedureStepScu::Set(const std::string& sop_instance_uid,
                                                       const Attributes& modification) {
  T_ASC_Association* assoc = impl_->association.get();
  if (!assoc) return Fail(ErrorCode::kInternal, "not connected");
  T_DIMSE_Message request{};
  request.CommandField = DIMSE_N_SET_RQ;
  T_DIMSE_N_SetRQ& rq = request.msg.NSetRQ;
  rq.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(rq.RequestedSOPClassUID, UID_ModalityPerformedProcedureStepSOPClass,
                      sizeof rq.RequestedSOPClassUID);
  OFStandard::strlcpy(rq.RequestedSOPInstanceUID, sop_instance_uid.c_str(), sizeof rq.RequestedSOPInstanceUID);
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  return impl_->Exchange(request, modification);
}

void ProcedureStepScu::Release() { impl_->association.Release(); }

Result<Attributes> AttributesFromKeys(const std::vector<std::string>& keys) {
  DcmDataset dataset;
  DcmPathProcessor processor;
  for (const auto& key : keys) {
    OFCondition cond = processor.applyPathWithValue(&dataset, key.c_str());
    if (cond.bad()) return Fail(ErrorCode::kInvalidInput, fmt::format("bad key '{}': {}", key, cond.text()));
  }
  return detail::ToAttributes(dataset);
}

namespace {

void DescribeInto(const Attributes& attributes, int depth, std::string& out) {
  for (const auto& element : attributes.elements()) {
    out += fmt::format("{:{}}({}) {}", "", depth * 2, ToString(element.tag), element.vr);
    if (element.vr != "SQ") {
      out += fmt::format(" [{}]\n", element.value);
      continue;
    }
    out += fmt::format(" ({} items)\n", element.items.size());
    for (const auto& item : element.items) DescribeInto(item, depth + 1, out);
  }
}

}  // namespace

std::string Describe(const Attributes& attributes) {
  std::string out;
  DescribeInto(attributes, 0, out);
  return out;
}

}  // namespace dx::dicom
