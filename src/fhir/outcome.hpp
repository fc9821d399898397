// FHIR R4 OperationOutcome answers, and a middleware that turns every other
// error answer under /fhir (unknown paths, wrong methods, thrown errors) into one,
// so a FHIR client always gets the format it expects.
#pragma once

#include <string>

#include "http/router.hpp"

namespace dx::fhir {

inline constexpr char kFhirJson[] = "application/fhir+json";

// An OperationOutcome with one error issue: `code` from the FHIR IssueType value
// set ("invalid", "not-found", "not-supported", "processing", ...); `expression`
// names the offending parameter or element when there is one.
http::Response Outcome(int status, const std::string& code, const std::string& message,
                       const std::string& expression = "");

// Rewrites problem+json answers to requests under `prefix` as OperationOutcomes.
http::Middleware OperationOutcomeErrors(std::string prefix);

}  // namespace dx::fhir
