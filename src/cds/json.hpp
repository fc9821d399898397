// JSON forms of the decision-support Case (input) and Outcome (output), for the
// REST endpoint and the terminal subcommand. Field names match knowledge/SCHEMA.md.
// Stateless functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "cds/evaluator.hpp"
#include "cds/knowledge_base.hpp"
#include "cds/model.hpp"
#include "core/error.hpp"

namespace dx::cds {

// {"age": 62, "sex": "female", "findings": ["cough", "no weight loss",
//  {"code": "weight_loss", "present": false}, {"text": "tired all the time"}],
//  "history": [...], "requested": "XR-CHEST"}
// Unknown keys and wrong types fail with kInvalidInput naming the field. A missing
// age is not a parse error: Evaluate reports it.
Result<Case> CaseFromJson(const nlohmann::json& json);
nlohmann::json CaseToJson(const Case& input);

// The whole outcome: errors, recommendations (with dose, band, source, criteria),
// verdict, asks (with the question to put), unknown findings and resolved findings.
nlohmann::json OutcomeToJson(const KnowledgeBase& knowledge, const Outcome& outcome);

}  // namespace dx::cds
