// DICOMweb routes (PS3.18) on the HTTP router, under /dicom-web: QIDO-RS search
// at study, series and instance level (with nested paths), WADO-RS metadata of a
// study, series or instance served from the DICOM JSON kept at ingest, WADO-RS
// retrieval of stored objects as streamed multipart/related, and the capabilities
// description (OPTIONS). Handlers are
// thread-safe; every access is audited.
#pragma once

#include <string>

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dicomweb {

inline constexpr char kRoot[] = "/dicom-web";

// The index, blob store and audit trail must outlive the router.
void RegisterRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                    audit::AuditTrail& audit, const std::string& ae_title);

}  // namespace dx::dicomweb
