#include "dicom/find_scu.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <fmt/format.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {

struct FindScu::Impl {
  Impl(std::string ae, int timeout) : calling_ae(std::move(ae)), timeout_seconds(timeout) {}
  std::string calling_ae;
  int timeout_seconds;
  std::string sop_class;
  detail::OutboundAssociation association;
  T_ASC_PresentationContextID context = 0;
};

FindScu::FindScu(std::string calling_ae, int timeout_seconds)
    : impl_(std::make_unique<Impl>(std::move(calling_ae), timeout_seconds)) {
  detail::InitializeToolkit();
}

FindScu::~FindScu() = default;

Result<void> FindScu::Connect(const RemotePeer& peer, QueryModel model) {
  impl_->sop_class = model == QueryModel::kPatientRoot ? UID_FINDPatientRootQueryRetrieveInformationModel
                     : model == QueryModel::kModalityWorklist ? UID_FINDModalityWorklistInformationModel
                                                              : UID_FINDStudyRootQueryRetrieveInformationModel;
  auto opened = impl_->association.Open(
      impl_->calling_ae, peer, impl_->timeout_seconds,
      {{impl_->sop_class, {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}}});
  if (!opened) return opened;
  impl_->context = ASC_findAcceptedPresentationContextID(impl_->association.get(), impl_->sop_class.c_str());
  if (impl_->context == 0) {
    Release();
    return Fail(ErrorCode::kRefused, "the peer refused the query model");
  }
  return {};
}

namespace {

void CollectResponse(void* data, T_DIMSE_C_FindRQ*, int, T_DIMSE_C_FindRSP*, DcmDataset* identifier) {
  if (identifier) static_cast<std::vector<Attributes>*>(data)->push_back(detail::ToAttributes(*identifier));
}

}  // namespace

Result<std::vector<Attributes>> FindScu::Find(const Attributes& identifier) {
  T_ASC_Association* association = impl_->association.get();
  if (!association) return Fail(ErrorCode::kInternal, "not connected");
  std::unique_ptr<DcmDataset> query(detail::ToDataset(identifier));
  T_DIMSE_C_FindRQ request{};
  request.MessageID = association->nextMsgID++;
  OFStandard::strlcpy(request.AffectedSOPClassUID, impl_->sop_class.c_str(), sizeof request.AffectedSOPClassUID);
  request.DataSetType = DIMSE_DATASET_PRESENT;
  request.Priority = DIMSE_PRIORITY_MEDIUM;
  std::vector<Attributes> matches;
  T_DIMSE_C_FindRSP response{};
  DcmDataset* detail = nullptr;
  int responses = 0;
  OFCondition cond = DIMSE_findUser(association, impl_->context, &request, query.get(), responses,
                                    CollectResponse, &matches, DIMSE_BLOCKING, 0, &response, &detail);
  delete detail;
  if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("C-FIND failed: {}", cond.text()));
  if (response.DimseStatus != STATUS_Success) {
    return Fail(ErrorCode::kRefused, fmt::format("C-FIND ended with status 0x{:04x}", unsigned(response.DimseStatus)));
  }
  return matches;
}

void FindScu::Release() { impl_->association.Release(); }

}  // namespace dx::dicom
