#include "dimse/archive_handlers.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "archive/query.hpp"
#include "core/logging.hpp"

namespace dx::dimse {

namespace {

// The matching keys of an identifier, for the audit trail ("PatientID=123").
std::vector<std::string> QueryEntities(const dicom::Attributes& identifier) {
  std::vector<std::string> entities;
  for (const auto& element : identifier.elements()) {
    if (!element.value.empty()) entities.push_back("key:" + dicom::ToString(element.tag) + "=" + element.value);
  }
  return entities;
}

}  // namespace

ArchiveHandlers::ArchiveHandlers(const Config& config, archive::Ingest& ingest, storage::InstanceIndex& index,
                                 storage::BlobStore& blobs, audit::AuditTrail& audit)
    : config_(config), ingest_(ingest), index_(index), blobs_(blobs), audit_(audit), log_(Logger("dimse")) {}

bool ArchiveHandlers::AcceptAssociation(const dicom::AssociationInfo& association) {
  const auto& allowed = config_.allowed_calling_aes;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), association.calling_ae) != allowed.end();
}

std::string ArchiveHandlers::StagingPath() { return ingest_.StagingPath(); }

dicom::StoreResponse ArchiveHandlers::Store(const dicom::StoreRequest& request) {
  auto stored = ingest_.StoreStaged(request.file_path, request.association.calling_ae, request.sop_instance_uid);
  audit_.Record({request.association.calling_ae, "dicom.store", stored ? "success" : stored.error().message,
                 stored ? std::vector<std::string>{"study:" + stored->study_instance_uid,
                                                   "instance:" + stored->sop_instance_uid}
                        : std::vector<std::string>{"instance:" + request.sop_instance_uid},
                 request.association.peer_address});
  if (stored) {
    log_->debug("event=stored calling_ae={} association={} status={}", request.association.calling_ae,
                request.association.id, static_cast<int>(stored->status));
    return {dicom::status::kSuccess, ""};
  }
  const auto& error = stored.error();
  // Log the reason, never the identifiers: UIDs of a patient's study are patient data.
  log_->warn("event=store-failed calling_ae={} association={} code={} reason=\"{}\"", request.association.calling_ae,
             request.association.id, ToString(error.code), error.message);
  return {DimseStoreStatus(error.code), error.message};
}

Result<std::vector<dicom::Attributes>> ArchiveHandlers::Find(const dicom::AssociationInfo& association,
                                                             dicom::QueryModel model,
                                                             const dicom::Attributes& identifier) {
  auto query = archive::QueryFromIdentifier(identifier, model == dicom::QueryModel::kPatientRoot);
  auto rows = query ? index_.Search(*query) : Result<std::vector<storage::QueryRow>>(tl::unexpected(query.error()));
  audit_.Record({association.calling_ae, "dicom.find",
                 rows ? fmt::format("success matches={}", rows->size()) : rows.error().message,
                 QueryEntities(identifier), association.peer_address});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<dicom::Attributes> matches;
  matches.reserve(rows->size());
  for (const auto& row : *rows) matches.push_back(archive::ResponseFor(identifier, query->level, row, config_.ae_title));
  log_->debug("event=find calling_ae={} association={} matches={}", association.calling_ae, association.id,
              matches.size());
  return matches;
}

Result<std::vector<dicom::OutgoingInstance>> ArchiveHandlers::Retrieve(const dicom::AssociationInfo& association,
                                                                       dicom::QueryModel model,
                                                                       const dicom::Attributes& identifier) {
  auto query = archive::QueryFromIdentifier(identifier, model == dicom::QueryModel::kPatientRoot);
  if (!query) return tl::unexpected(query.error());
  if (query->matches.empty()) {
    return Fail(ErrorCode::kInvalidInput, "a retrieve must name the patient, study, series or instances to send");
  }
  auto instances = index_.ListInstances(*query);
  audit_.Record({association.calling_ae, "dicom.retrieve",
                 instances ? fmt::format("success instances={}", instances->size()) : instances.error().message,
                 QueryEntities(identifier), association.peer_address});
  if (!instances) return tl::unexpected(instances.error());
  std::vector<dicom::OutgoingInstance> outgoing;
  outgoing.reserve(instances->size());
  for (const auto& instance : *instances) {
    auto path = blobs_.PathOf(instance.blob_key);
    if (!path) return tl::unexpected(path.error());
    outgoing.push_back({*path, instance.sop_class_uid, instance.sop_instance_uid, instance.transfer_syntax_uid});
  }
  log_->debug("event=retrieve calling_ae={} association={} instances={}", association.calling_ae, association.id,
              outgoing.size());
  return outgoing;
}

Result<dicom::RemotePeer> ArchiveHandlers::MoveDestination(const std::string& ae_title) {
  auto it = config_.peers.find(ae_title);
  if (it == config_.peers.end()) {
    return Fail(ErrorCode::kNotFound, fmt::format("move destination '{}' is not configured", ae_title));
  }
  return dicom::RemotePeer{ae_title, it->second.host, it->second.port};
}

}  // namespace dx::dimse
