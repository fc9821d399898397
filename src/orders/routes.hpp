// Diagnostic requests over HTTP. FHIR R4 (JSON, errors as OperationOutcome):
//   POST /fhir/ServiceRequest           place a request (201, Location)
//   GET  /fhir/ServiceRequest/{id}      read
//   GET  /fhir/ServiceRequest?...       search: patient.identifier, status, requester,
//                                       performer, authored (ge/gt/le/lt/eq), _count, _offset
// and plain JSON for the people who move a request along its clock:
//   GET  /orders/vetting?site=&priority=   the vetting queue (two-week-wait, urgent, routine; oldest first)
//   POST /orders/{id}/vet | book | perform | report | acknowledge | cancel | patient-delay
//   GET  /orders/{id}/clock                every event with its time and who made it, and the waits
// Every access is audited. Handlers are thread-safe.
#pragma once

#include <functional>

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "orders/catalogue.hpp"
#include "storage/api/order_store.hpp"

namespace dx::orders {

// Unix seconds now; tests pass a fixed clock.
using Clock = std::function<std::int64_t()>;

// Register before the generic /fhir routes so that ServiceRequest paths reach these.
void RegisterOrderRoutes(http::Router& router, storage::OrderStore& store, const TestCatalogue& catalogue,
                         audit::AuditTrail& audit, Clock clock);

// A new accession number: 16 characters at most (DICOM SH), unique with high probability.
std::string NewAccessionNumber();

}  // namespace dx::orders
