// Internal to dicom/: conversions between Attributes and DCMTK data sets, and
// sending one stored instance over an open association (used by the C-STORE
// SCU and by C-GET). Thread-compatible: one association per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "dicom/dimse_server.hpp"

namespace dx::dicom::detail {

Attributes ToAttributes(DcmDataset& dataset);
// A new data set (caller owns) holding `attributes`, sequences with their items.
DcmDataset* ToDataset(const Attributes& attributes);
// A new status-detail data set carrying Error Comment (0000,0902).
DcmDataset* ErrorDetail(const std::string& comment);

// Registers DCMTK's decoders and quiets its own logger, once per process
// (DCMTK keeps both globally); dicom/ reports problems through Result instead.
void InitializeToolkit();

// Sends `instance` as a C-STORE sub-operation over `association`, picking an
// accepted context for its SOP class in its stored transfer syntax, or in an
// uncompressed one after decompressing. Returns the peer's response status.
Result<std::uint16_t> SendInstance(T_ASC_Association* association, const OutgoingInstance& instance,
                                   const std::string& move_originator_ae, std::uint16_t move_message_id);

// One outgoing association (SCU side) with its network, released or aborted
// and freed on destruction. Used by StoreSender and FindScu.
class OutboundAssociation {
 public:
  struct Context {
    std::string abstract_syntax;
    std::vector<std::string> transfer_syntaxes;
  };
  OutboundAssociation() = default;
  ~OutboundAssociation();
  OutboundAssociation(const OutboundAssociation&) = delete;
  OutboundAssociation& operator=(const OutboundAssociation&) = delete;

  // Proposes `contexts` (at most 128) to the peer; fails if it accepts none.
  Result<void> Open(const std::string& calling_ae, const RemotePeer& peer, int timeout_seconds,
                    const std::vector<Context>& contexts);
  void Release();
  T_ASC_Association* get() { return association_; }

 private:
  T_ASC_Network* network_ = nullptr;
  T_ASC_Association* association_ = nullptr;
};

}  // namespace dx::dicom::detail
