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
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {
namespace detail {

namespace {

Attributes ItemAttributes(DcmItem& item) {
  Attributes attributes;
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* element = item.getElement(i);
    const DcmTagKey key = element->getTag();
    const Tag tag{key.getGroup(), key.getElement()};
    if (element->ident() == EVR_SQ) {
      auto* sequence = static_cast<DcmSequenceOfItems*>(element);
      std::vector<Attributes> items;
      for (unsigned long j = 0; j < sequence->card(); ++j) items.push_back(ItemAttributes(*sequence->getItem(j)));
      attributes.SetSequence(tag, std::move(items));
      continue;
    }
    std::string value;
    OFString text;
    if (element->getOFStringArray(text).good()) value.assign(text.c_str(), text.length());
    attributes.Set(tag, DcmVR(element->ident()).getVRName(), std::move(value));
  }
  return attributes;
}

void FillItem(DcmItem& item, const Attributes& attributes) {
  for (const auto& element : attributes.elements()) {
    DcmTag tag(element.tag.group, element.tag.element);
    if (element.vr == "SQ") {
      auto* sequence = new DcmSequenceOfItems(tag);
      for (const auto& nested : element.items) {
        auto* child = new DcmItem;
        FillItem(*child, nested);
        sequence->append(child);
      }
      item.insert(sequence, OFTrue);
    } else {
      if (!element.vr.empty()) tag.setVR(DcmVR(element.vr.c_str()));
      item.putAndInsertOFStringArray(tag, OFString(element.value.c_str(), element.value.size()));
    }
  }
}

}  // namespace

Attributes ToAttributes(DcmDataset& dataset) { return ItemAttributes(dataset); }

DcmDataset* ToDataset(const Attributes& attributes) {
  auto* dataset = new DcmDataset;
  FillItem(*dataset, attributes);
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

OutboundAssociation::~OutboundAssociation() {
  Release();
  if (network_) ASC_dropNetwork(&network_);
}

Result<void> OutboundAssociation::Open(const std::string& calling_ae, const RemotePeer& peer, int timeout_seconds,
                                       const std::vector<Context>& contexts) {
  if (!network_) {
    OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, timeout_seconds, &network_);
    if (cond.bad()) return Fail(ErrorCode::kInternal, fmt::format("network init failed: {}", cond.text()));
  }
  T_ASC_Parameters* params = nullptr;
  ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
  ASC_setAPTitles(params, calling_ae.c_str(), peer.ae_title.c_str(), nullptr);
  const std::string address = fmt::format("{}:{}", peer.host, peer.port);
  ASC_setPresentationAddresses(params, "localhost", address.c_str());
  int id = 1;  // odd numbers 1..255 (PS3.8 §9.3.2.2)
  for (const auto& context : contexts) {
    if (id > 255) break;
    std::vector<const char*> syntaxes;
    for (const auto& syntax : context.transfer_syntaxes) syntaxes.push_back(syntax.c_str());
    ASC_addPresentationContext(params, static_cast<T_ASC_PresentationContextID>(id), context.abstract_syntax.c_str(),
                               syntaxes.data(),
                               static_cast<int>(syntaxes.size()));
    id += 2;
  }
  OFCondition cond = ASC_requestAssociation(network_, params, &association_);
  if (cond.bad()) {
    if (association_) {
      ASC_destroyAssociation(&association_);
    } else {
      ASC_destroyAssociationParameters(&params);
    }
    return Fail(ErrorCode::kUnavailable,
                fmt::format("association to {} at {} failed: {}", peer.ae_title, address, cond.text()));
  }
  if (ASC_countAcceptedPresentationContexts(association_->params) == 0) {
    Release();
    return Fail(ErrorCode::kRefused, fmt::format("{} accepted no presentation context", peer.ae_title));
  }
  return {};
}

void OutboundAssociation::Release() {
  if (!association_) return;
  if (ASC_releaseAssociation(association_).bad()) ASC_abortAssociation(association_);
  ASC_destroyAssociation(&association_);
}

}  // namespace detail

struct StoreSender::Impl {
  Impl(std::string ae, int timeout) : calling_ae(std::move(ae)), timeout_seconds(timeout) {}
  std::string calling_ae;
  int timeout_seconds;
  detail::OutboundAssociation association;
};

StoreSender::StoreSender(std::string calling_ae, int timeout_seconds)
    : impl_(std::make_unique<Impl>(std::move(calling_ae), timeout_seconds)) {
  detail::InitializeToolkit();
}

StoreSender::~StoreSender() = default;

Result<void> StoreSender::Connect(const RemotePeer& peer, const std::vector<OutgoingInstance>& instances) {
  // One context per SOP class in the uncompressed syntaxes, and one per (SOP
  // class, stored syntax) for everything stored compressed.
  std::set<std::string> classes;
  std::set<std::pair<std::string, std::string>> compressed;
  for (const auto& instance : instances) {
    classes.insert(instance.sop_class_uid);
    if (instance.transfer_syntax_uid != UID_LittleEndianExplicitTransferSyntax &&
        instance.transfer_syntax_uid != UID_LittleEndianImplicitTransferSyntax) {
      compressed.insert({instance.sop_class_uid, instance.transfer_syntax_uid});
    }
  }
  std::vector<detail::OutboundAssociation::Context> contexts;
  for (const auto& sop_class : classes) {
    contexts.push_back({sop_class, {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}});
  }
  for (const auto& [sop_class, syntax] : compressed) contexts.push_back({sop_class, {syntax}});
  return impl_->association.Open(impl_->calling_ae, peer, impl_->timeout_seconds, contexts);
}

Result<std::uint16_t> StoreSender::Send(const OutgoingInstance& instance, const std::string& move_originator_ae,
                                        std::uint16_t move_message_id) {
  if (!impl_->association.get()) return Fail(ErrorCode::kInternal, "not connected");
  return detail::SendInstance(impl_->association.get(), instance, move_originator_ae, move_message_id);
}

void StoreSender::Release() { impl_->association.Release(); }

}  // namespace dx::dicom
