// FHIR R4 REST (JSON only) for the result resources, under /fhir:
// the CapabilityStatement at /fhir/metadata; read, vread and history of a
// DiagnosticReport or Observation; and search (fhir/search.hpp) answered as a
// searchset Bundle with total and self/next/previous paging links. Every error is
// an OperationOutcome; every access to a patient's results is audited.
// Handlers are thread-safe.
#pragma once

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/result_store.hpp"

namespace dx::fhir {

inline constexpr char kFhirRoot[] = "/fhir";

// The store and audit trail must outlive the router. Also installs the middleware
// that answers every error under /fhir as an OperationOutcome.
void RegisterFhirRoutes(http::Router& router, storage::ResultStore& store, audit::AuditTrail& audit);

// The stored resource JSON with its meta (versionId, lastUpdated) added.
std::string WithMeta(const storage::StoredResource& resource);

}  // namespace dx::fhir
