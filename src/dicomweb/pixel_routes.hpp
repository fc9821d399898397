// WADO-RS pixel resources (PS3.18 §10.4.1, §8.7.3): frames and Pixel Data bulk data
// uncompressed (application/octet-stream) or as stored (image/jpeg, image/jls, …) by
// Accept negotiation, other bulk data behind the metadata's BulkDataURIs, rendered
// studies, series, instances and frames (image/jpeg, image/png; window, viewport,
// quality) and thumbnails at every level. Handlers are thread-safe; every access to an
// instance is audited.
#pragma once

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dicomweb {

// The index, blob store and audit trail must outlive the router.
void RegisterPixelRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                         audit::AuditTrail& audit);

}  // namespace dx::dicomweb
