// Reads decision-support input out of the FHIR R4 resources a GP system sends
// with a CDS Hooks call: age and sex from Patient, findings from active
// Conditions and from a ServiceRequest's reasonCode, the requested test from
// its code. Codings are matched against the knowledge base (SNOMED CT first,
// then dxhub codes, then display text). Stateless; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cds/knowledge_base.hpp"
#include "cds/model.hpp"
#include "core/error.hpp"

namespace dx::cds::hooks {

inline constexpr char kSnomedSystem[] = "http://snomed.info/sct";
// Code systems for dxhub's own knowledge-base codes (knowledge/SCHEMA.md ids).
inline constexpr char kInvestigationSystem[] = "urn:dxhub:cds:investigation";
inline constexpr char kFindingSystem[] = "urn:dxhub:cds:finding";

// Age in completed years on `today` for a FHIR date ("YYYY-MM-DD"); under one
// year, completed months / 12 (rules for infants use fractions of a year).
// nullopt for a partial ("YYYY", "YYYY-MM"), malformed or future date.
std::optional<double> AgeOn(const std::string& birth_date, std::chrono::year_month_day today);

struct PatientFacts {
  std::optional<double> age;
  PatientSex sex = PatientSex::kUnknown;
  std::string reference;  // "Patient/<id>"
};

// Errors (kInvalidInput, naming the field) when `patient` is not a Patient
// resource. A missing or partial birthDate gives no age (the evaluator then
// reports the missing age rather than guessing).
Result<PatientFacts> PatientFromFhir(const nlohmann::json& patient, std::chrono::year_month_day today);

// One finding input per usable Condition: clinicalStatus active, recurrence or
// relapse (or absent); verificationStatus refuted gives an explicit absence;
// entered-in-error, inactive, remission and resolved ones are skipped.
// `conditions` is a searchset Bundle, an array of Conditions or null.
// kInvalidInput when it is something else.
Result<std::vector<FindingInput>> FindingsFromConditions(const KnowledgeBase& knowledge,
                                                         const nlohmann::json& conditions);

// The input text for a CodeableConcept: the first coding the vocabulary knows,
// else its text or first display (reported as unknown by the evaluator).
FindingInput FindingFromConcept(const KnowledgeBase& knowledge, const nlohmann::json& codeable);

struct DraftOrder {
  std::string reference;                 // "ServiceRequest/<id>"
  nlohmann::json resource;               // as received
  std::optional<std::string> requested;  // investigation code, when the catalogue knows the test
  std::string display;                   // what to call the test in a card
  std::string priority;                  // routine | urgent | asap | stat ("routine" when absent)
  std::vector<FindingInput> reasons;     // from reasonCode
};

// Reads a ServiceRequest; kInvalidInput naming the field when it is not one or
// has no code.
Result<DraftOrder> DraftOrderFromFhir(const KnowledgeBase& knowledge, const nlohmann::json& resource);

}  // namespace dx::cds::hooks
