// CDS Hooks 2.0 cards for one draft order: what guidance says about the test
// being ordered (indicator, summary, Markdown detail, source), suggestions that
// replace an inappropriate order with the recommended one or set the urgency
// guidance gives, and the override reasons a requester can pick. Also the
// system action that stamps the order with its consultation. Pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cds/evaluator.hpp"
#include "cds/hooks/fhir_input.hpp"
#include "cds/knowledge_base.hpp"

namespace dx::cds::hooks {

// Code system of the override reasons offered on cards.
inline constexpr char kOverrideReasonSystem[] = "urn:dxhub:cds:override-reason";
// Code system naming a rule in a card's source.topic.
inline constexpr char kRuleSystem[] = "urn:dxhub:cds:rule";
// Extension recording a consultation on a ServiceRequest.
inline constexpr char kConsultationExtension[] = "urn:dxhub:fhir:StructureDefinition:cds-consultation";

// The override reasons every warning card offers (CDS Hooks Coding objects).
nlohmann::json OverrideReasons();

// FHIR ServiceRequest.priority for a guidance urgency (immediate → stat,
// within 24 or 48 hours → asap, within 2 weeks → urgent, otherwise routine).
std::string PriorityFor(Urgency urgency);

// The verdict word stored with the consultation: appropriate, may-be-appropriate,
// not-appropriate, no-guidance, or "not-checked" when the test is not in the
// catalogue and "error" when the input could not be evaluated.
std::string VerdictWord(const DraftOrder& order, const Outcome& outcome);

// Zero or more cards about `order` given its evaluation; each card gets a fresh
// uuid, appended to `card_ids`. `consultation_id` is quoted in the detail.
nlohmann::json CardsForOrder(const KnowledgeBase& knowledge, const DraftOrder& order, const Outcome& outcome,
                             const std::string& consultation_id, std::vector<std::string>& card_ids);

// An "update" action: the draft order with an extension recording the
// consultation id, the verdict and the deciding rule.
nlohmann::json ConsultationAction(const DraftOrder& order, const Outcome& outcome, const std::string& consultation_id);

}  // namespace dx::cds::hooks
