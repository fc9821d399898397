// STOW-RS (PS3.18 §10.5): POST /dicom-web/studies[/{study}] with a multipart/related;
// type="application/dicom" body. Each part goes through the archive's ingest pipeline
// (duplicate policy, durability, group commit) exactly as a C-STORE does, and the
// answer lists every instance as stored (ReferencedSOPSequence) or failed with its
// reason (FailedSOPSequence). Handlers are thread-safe.
#pragma once

#include "archive/ingest.hpp"
#include "audit/audit_trail.hpp"
#include "http/router.hpp"

namespace dx::dicomweb {

void RegisterStowRoutes(http::Router& router, archive::Ingest& ingest, audit::AuditTrail& audit);

}  // namespace dx::dicomweb
