// The archive's DIMSE services: C-STORE into the ingest pipeline, C-FIND over
// the index (Patient Root and Study Root, PS3.4 C.6), C-MOVE to configured
// destinations and C-GET over the requesting association. Every access is
// recorded in the audit trail. Thread-safe: called
// from every association thread at once.
#pragma once

#include <memory>

#include "archive/ingest.hpp"
#include "audit/audit_trail.hpp"
#include "core/logging.hpp"
#include "core/config.hpp"
#include "dicom/dimse_server.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dimse {

class ArchiveHandlers : public dicom::DimseHandlers {
 public:
  ArchiveHandlers(const Config& config, archive::Ingest& ingest, storage::InstanceIndex& index,
                  storage::BlobStore& blobs, audit::AuditTrail& audit);

  bool AcceptAssociation(const dicom::AssociationInfo& association) override;
  std::string StagingPath() override;
  dicom::StoreResponse Store(const dicom::StoreRequest& request) override;
  Result<std::vector<dicom::Attributes>> Find(const dicom::AssociationInfo& association, dicom::QueryModel model,
                                              const dicom::Attributes& identifier) override;
  Result<std::vector<dicom::OutgoingInstance>> Retrieve(const dicom::AssociationInfo& association,
                                                        dicom::QueryModel model,
                                                        const dicom::Attributes& identifier) override;
  Result<dicom::RemotePeer> MoveDestination(const std::string& ae_title) override;

 private:
  const Config& config_;
  archive::Ingest& ingest_;
  storage::InstanceIndex& index_;
  storage::BlobStore& blobs_;
  audit::AuditTrail& audit_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace dx::dimse
