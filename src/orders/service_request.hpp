// A diagnostic request in FHIR R4: ServiceRequest JSON read into a
// storage::OrderRecord (validated, every problem named by its path) and written
// back from one. The subject is a contained Patient with the NHS number; the
// requester a contained PractitionerRole (the clinician and the practice's ODS
// code), as UK Core profiles them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "orders/catalogue.hpp"
#include "storage/api/order_store.hpp"

namespace dx::orders {

inline constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr char kAccessionSystem[] = "https://fhir.dxhub.org/Id/accession-number";
inline constexpr char kPathwaySystem[] = "https://fhir.dxhub.org/CodeSystem/request-pathway";
// The DM01 kind of activity: waiting-list (default), planned or unscheduled.
inline constexpr char kActivitySystem[] = "https://fhir.dxhub.org/CodeSystem/dm01-activity";
inline constexpr char kDecisionSupportUrl[] = "https://fhir.dxhub.org/StructureDefinition/decision-support";
inline constexpr char kStageUrl[] = "https://fhir.dxhub.org/StructureDefinition/request-stage";

// A request's problem: what is wrong and where (a FHIRPath-like location).
struct RequestProblem {
  std::string message;
  std::string location;
};

// Reads a ServiceRequest for a new request. `now` is the receipt time (the clock
// starts then, or at authoredOn when that is earlier and not in the future).
// The record has no id (the caller assigns it) and stage "requested".
Result<storage::OrderRecord> ReadServiceRequest(const nlohmann::json& resource, const TestCatalogue& catalogue,
                                                std::int64_t now, RequestProblem* problem);

// The request as a FHIR ServiceRequest (with meta).
nlohmann::json WriteServiceRequest(const storage::OrderRecord& order);

// Unix seconds from an ISO 8601 date ("2026-03-01") or dateTime with a zone
// ("2026-03-01T09:30:00Z", "+01:00"); nullopt when malformed.
std::optional<std::int64_t> ParseInstant(const std::string& text);
// "2026-03-01T09:30:00Z".
std::string FormatInstant(std::int64_t seconds);

}  // namespace dx::orders
