#include "dicom/store_sender.hpp"

#include <mutex>
#include <set>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {
namespace detail {

Attributes ToAttributes(DcmDataset& dataset) {
  Attributes attributes;
  for (unsigned long i = 0; i < dataset.card(); ++i) {
    DcmElement* element = dataset.getElement(i);
    const DcmTagKey key = element->getTag();
    std::string value;
    if (element->ident() != EVR_SQ) {
      OFString text;
      if (element->getOFStringArray(text).good()) value.assign(text.c_str(), text.length());
    }
    attributes.Set(Tag{key.getGroup(), key.getElement()}, DcmVR(element->ident()).getVRName(), std::move(value));
  }
  return attributes;
}

DcmDataset* ToDataset(const Attributes& attributes) {
  auto* dataset = new DcmDataset;
  for (const auto& element : attributes.elements()) {
    DcmTag tag(element.tag.group, element.tag.element);
    if (element.vr == "SQ") {
      dataset->insertEmptyElement(tag);
    } else {
      if (!element.vr.empty()) tag.setVR(DcmVR(element.vr.c_str()));
      dataset->putAndInsertOFStringArray(tag, OFString(element.value.c_str(), element.value.size()));
    }
  }
  return dataset;
}

DcmDataset* ErrorDetail(const std::string& comment) {
  auto* detail = new DcmDataset;
  detail->putAndInsertString(DCM_ErrorComment, comment.substr(0, 64).c_str());
  return detail;
}

void InitializeToolkit() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

Result<std::uint16_t> SendInstance(T_ASC_Association* association, const OutgoingInstance& instance,
                                   const std::string& move_originator_ae, std::uint16_t move_message_id) {
  T_ASC_PresentationContextID context = ASC_findAcceptedPresentationContextID(
      association, instance.sop_class_uid.c_str(), instance.transfer_syntax_uid.c_str());
  std::unique_ptr<DcmFileFormat> converted;
  if (context == 0) {
    // Fall back to an uncompressed syntax the peer accepted, decompressing here.
    for (E_TransferSyntax fallback : {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit}) {
      DcmXfer xfer(fallback);
      context = ASC_findAcceptedPresentationContextID(association, instance.sop_class_uid.c_str(), xfer.getXferID());
      if (context == 0) continue;
      converted = std::make_unique<DcmFileFormat>();
      if (converted->loadFile(instance.file_path.c_str()).bad()) {
        return Fail(ErrorCode::kStorage, "cannot read stored instance");
      }
      if (converted->getDataset()->chooseRepresentation(fallback, nullptr).bad() ||
          !converted->getDataset()->canWriteXfer(fallback)) {
        return Fail(ErrorCode::kUnsupported,
                    fmt::format("cannot convert {} to a syntax the peer accepted", instance.transfer_syntax_uid));
      }
      break;
    }
  }
  if (context == 0) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("peer accepted no context for SOP class {}", instance.sop_class_uid));
  }
  T_DIMSE_C_StoreRQ request{};
  request.MessageID = association->nextMsgID++;
  OFStandard::strlcpy(request.AffectedSOPClassUID, instance.sop_class_uid.c_str(), sizeof request.AffectedSOPClassUID);
  OFStandard::strlcpy(request.AffectedSOPInstanceUID, instance.sop_instance_uid.c_str(),
                      sizeof request.AffectedSOPInstanceUID);
  request.DataSetType = DIMSE_DATASET_PRESENT;
  request.Priority = DIMSE_PRIORITY_MEDIUM;
  if (!move_originator_ae.empty()) {
    request.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    OFStandard::strlcpy(request.MoveOriginatorApplicationEntityTitle, move_originator_ae.c_str(),
                        sizeof request.MoveOriginatorApplicationEntityTitle);
    request.MoveOriginatorID = move_message_id;
  }
  T_DIMSE_C_StoreRSP response{};
  DcmDataset* detail = nullptr;
  OFCondition cond =
      converted ? DIMSE_storeUser(association, context, &request, nullptr, converted->getDataset(), nullptr, nullptr,
                                  DIMSE_BLOCKING, 0, &response, &detail)
                : DIMSE_storeUser(association, context, &request, instance.file_path.c_str(), nullptr, nullptr,
                                  nullptr, DIMSE_BLOCKING, 0, &response, &detail);
  delete detail;
  if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("C-STORE sub-operation failed: {}", cond.text()));
  return static_cast<std::uint16_t>(response.DimseStatus);
}

}  // namespace detail

struct StoreSender::Impl {
  Impl(std::string ae, int timeout) : calling_ae(std::move(ae)), timeout_seconds(timeout) {}
  std::string calling_ae;
  int timeout_seconds;
  T_ASC_Network* network = nullptr;
  T_ASC_Association* association = nullptr;
};

StoreSender::StoreSender(std::string calling_ae, int timeout_seconds)
    : impl_(std::make_unique<Impl>(std::move(calling_ae), timeout_seconds)) {
  detail::InitializeToolkit();
}

StoreSender::~StoreSender() {
  Release();
  if (impl_->network) ASC_dropNetwork(&impl_->network);
}

Result<void> StoreSender::Connect(const RemotePeer& peer, const std::vector<OutgoingInstance>& instances) {
  OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, impl_->timeout_seconds, &impl_->network);
  if (cond.bad()) return Fail(ErrorCode::kInternal, fmt::format("network init failed: {}", cond.text()));
  T_ASC_Parameters* params = nullptr;
  ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
  ASC_setAPTitles(params, impl_->calling_ae.c_str(), peer.ae_title.c_str(), nullptr);
  const std::string address = fmt::format("{}:{}", peer.host, peer.port);
  ASC_setPresentationAddresses(params, "localhost", address.c_str());

  // One context per (SOP class, stored syntax), and one uncompressed per SOP class.
  std::set<std::pair<std::string, std::string>> proposed;
  std::set<std::string> classes;
  for (const auto& instance : instances) {
    proposed.insert({instance.sop_class_uid, instance.transfer_syntax_uid});
    classes.insert(instance.sop_class_uid);
  }
  T_ASC_PresentationContextID id = 1;
  const char* uncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
  for (const auto& sop_class : classes) {
    if (id > 253) break;
    ASC_addPresentationContext(params, id, sop_class.c_str(), uncompressed, 2);
    id += 2;
  }
  for (const auto& [sop_class, syntax] : proposed) {
    if (id > 253) break;
    if (syntax == UID_LittleEndianExplicitTransferSyntax || syntax == UID_LittleEndianImplicitTransferSyntax) continue;
    const char* one[] = {syntax.c_str()};
    ASC_addPresentationContext(params, id, sop_class.c_str(), one, 1);
    id += 2;
  }
  cond = ASC_requestAssociation(impl_->network, params, &impl_->association);
  if (cond.bad()) {
    if (impl_->association) ASC_destroyAssociation(&impl_->association);
    return Fail(ErrorCode::kUnavailable, fmt::format("association to {} at {} failed: {}", peer.ae_title, address,
                                                     cond.text()));
  }
  if (ASC_countAcceptedPresentationContexts(params) == 0) {
    Release();
    return Fail(ErrorCode::kRefused, fmt::format("{} accepted no presentation context", peer.ae_title));
  }
  return {};
}

Result<std::uint16_t> StoreSender::Send(const OutgoingInstance& instance, const std::string& move_originator_ae,
                                        std::uint16_t move_message_id) {
  if (!impl_->association) return Fail(ErrorCode::kInternal, "not connected");
  return detail::SendInstance(impl_->association, instance, move_originator_ae, move_message_id);
}

void StoreSender::Release() {
  if (!impl_->association) return;
  if (ASC_releaseAssociation(impl_->association).bad()) ASC_abortAssociation(impl_->association);
  ASC_destroyAssociation(&impl_->association);
}

}  // namespace dx::dicom
