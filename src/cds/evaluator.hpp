// The decision-support evaluator: given a KnowledgeBase and a Case, the ranked
// recommendations, the verdict on the requested test, what to ask next, and input
// errors. Pure and deterministic (no I/O, no clock, stable ordering); safe to call
// concurrently on one shared const KnowledgeBase. Semantics: knowledge/SCHEMA.md §4.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cds/knowledge_base.hpp"
#include "cds/model.hpp"

namespace dx::cds {

// Outcome fields point into the KnowledgeBase they came from: keep it alive.

struct MatchedCriterion {
  CriterionGroup group;
  FindingIndex finding;
};

struct Recommendation {
  const Rule* rule = nullptr;
  const Investigation* investigation = nullptr;
  const std::string* note = nullptr;  // never null in a returned outcome
  int score = 0;
  ScoreBand band = ScoreBand::kUsuallyAppropriate;
  Urgency urgency = Urgency::kRoutine;
  std::vector<MatchedCriterion> criteria;  // of the best (first) rule
  std::vector<const Rule*> also_supported_by;
};

struct Caution {
  const Rule* rule = nullptr;
  const std::string* reason = nullptr;
};

struct RequestVerdict {
  const Investigation* investigation = nullptr;
  Verdict verdict = Verdict::kNoGuidance;
  std::optional<int> score;       // set when a matching rule recommends the test
  const Rule* rule = nullptr;     // the rule that decided the verdict, if any
  std::string reason;             // rationale or advise-against reason
  std::vector<Caution> cautions;  // advise-against from other rules despite a recommendation
};

enum class AskReason {
  kRuleAsks,  // a matching rule lists it: its presence would change that answer
  kNearMiss,  // a rule would apply if it were present
};

struct Ask {
  FindingIndex finding;
  const Rule* rule = nullptr;
  AskReason reason = AskReason::kRuleAsks;
};

struct InputError {
  std::string field;  // "age", "sex", "findings", "requested"
  std::string message;
};

struct Outcome {
  std::vector<InputError> errors;  // non-empty: nothing else but mentions is filled
  std::vector<FindingMention> mentions;  // every input entry, resolved or not
  std::vector<std::string> unknown_findings;
  std::vector<const Rule*> matched_rules;  // in ranking order
  std::vector<Recommendation> recommendations;
  std::optional<RequestVerdict> verdict;   // when a test was requested
  std::vector<Ask> asks;

  bool ok() const { return errors.empty(); }
};

// Evaluates one case. Never fails: bad input comes back in Outcome::errors.
Outcome Evaluate(const KnowledgeBase& knowledge, const Case& input);

}  // namespace dx::cds
