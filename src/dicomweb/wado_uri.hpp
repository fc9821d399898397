// WADO-URI (PS3.18 §9): GET /wado?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…
// for older clients. contentType application/dicom returns the stored object (or
// transcoded to explicit VR little endian on request); image/jpeg (the default)
// and image/png render a frame with windowCenter/windowWidth, rows/columns and
// imageQuality. Handlers are thread-safe.
#pragma once

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dicomweb {

void RegisterWadoUriRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                           audit::AuditTrail& audit);

}  // namespace dx::dicomweb
