// WADO-RS pixel resources (PS3.18 §10.4.1): frames as uncompressed bytes in
// multipart/related, rendered frames and instances (image/jpeg, image/png; window,
// viewport, quality) and thumbnails of a study, series, instance or frame.
// Handlers are thread-safe.
#pragma once

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dicomweb {

void RegisterPixelRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                         audit::AuditTrail& audit);

}  // namespace dx::dicomweb
