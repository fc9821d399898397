#include "cds/hooks/cards.hpp"

#include <fmt/format.h>

#include "core/uid.hpp"

namespace dx::cds::hooks {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxSummary = 139;  // CDS Hooks: summary under 140 characters

std::string Summary(std::string text) {
  if (text.size() <= kMaxSummary) return text;
  std::size_t cut = kMaxSummary - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  text.resize(cut);
  return text + "...";
}

int PriorityRank(const std::string& priority) {
  if (priority == "stat") return 3;
  if (priority == "asap") return 2;
  if (priority == "urgent") return 1;
  return 0;
}

std::string UrgencyWords(Urgency urgency) {
  switch (urgency) {
    case Urgency::kImmediate: return "immediately";
    case Urgency::kWithin24Hours: return "within 24 hours";
    case Urgency::kWithin48Hours: return "within 48 hours";
    case Urgency::kWithin2Weeks: return "within 2 weeks";
    case Urgency::kRoutine: return "routine";
    case Urgency::kNone: return "no test needed";
  }
  return "routine";
}

std::string SourceLabel(const Rule& rule) {
  return fmt::format("{} {}", rule.source.guideline, rule.source.recommendation);
}

json CardSource(const Rule* rule) {
  if (rule == nullptr) return {{"label", "dxhub decision support"}};
  return {{"label", SourceLabel(*rule)},
          {"url", rule->source.url},
          {"topic", {{"system", kRuleSystem}, {"code", rule->id}, {"display", rule->title}}}};
}

std::string DoseText(const Investigation& investigation) {
  if (!IsIonising(investigation.modality)) return "no ionising radiation";
  return fmt::format("about {} mSv (dose band {})", investigation.dose_msv, ToString(investigation.dose_band));
}

// Markdown: the recommendations with urgency, dose, rationale and source.
std::string Detail(const KnowledgeBase& knowledge, const Outcome& outcome, const std::string& lead,
                   const std::string& consultation_id) {
  std::string out = lead;
  if (!outcome.recommendations.empty()) {
    out += "\n\n**What guidance recommends**\n";
    for (const auto& r : outcome.recommendations) {
      out += fmt::format("\n- **{}** — {}; score {}/9; {}. {} _({} {}, rule {} v{})_", r.investigation->name,
                         UrgencyWords(r.urgency), r.score, DoseText(*r.investigation), r.rule->rationale,
                         r.rule->source.guideline, r.rule->source.recommendation, r.rule->id, r.rule->version);
    }
  }
  if (!outcome.asks.empty()) {
    out += "\n\n**Would change the answer**\n";
    for (const auto& ask : outcome.asks) {
      const Finding& finding = knowledge.findings().at(ask.finding);
      out += fmt::format("\n- {}", finding.question.empty() ? finding.label : finding.question);
    }
  }
  if (!outcome.unknown_findings.empty()) {
    out += "\n\nNot recognised, so not used: ";
    for (std::size_t i = 0; i < outcome.unknown_findings.size(); ++i) {
      out += (i ? ", " : "") + outcome.unknown_findings[i];
    }
    out += ".";
  }
  out += fmt::format("\n\nConsultation {}.", consultation_id);
  return out;
}

json Coding(const Investigation& investigation) {
  json coding = json::array({{{"system", kInvestigationSystem}, {"code", investigation.code}, {"display", investigation.name}}});
  if (!investigation.snomed.empty()) {
    coding.push_back({{"system", kSnomedSystem}, {"code", investigation.snomed}, {"display", investigation.name}});
  }
  return coding;
}

// The draft order with its code (and priority) replaced by the recommendation.
json ReplacementOrder(const DraftOrder& order, const Recommendation& recommendation) {
  json replacement = order.resource;
  replacement.erase("id");
  replacement["code"] = {{"coding", Coding(*recommendation.investigation)}, {"text", recommendation.investigation->name}};
  replacement["priority"] = PriorityFor(recommendation.urgency);
  replacement["status"] = "draft";
  return replacement;
}

json Suggestion(std::string label, json actions) {
  return {{"label", Summary(std::move(label))}, {"uuid", GenerateUuid()}, {"isRecommended", true}, {"actions", std::move(actions)}};
}

// Replace the order by the top recommendation, or cancel it when guidance says no test.
json ReplaceSuggestion(const DraftOrder& order, const Recommendation& top) {
  json remove = {{"type", "delete"}, {"description", fmt::format("Remove the draft order for {}", order.display)},
                 {"resourceId", order.reference}};
  if (top.investigation->modality == Modality::kNone) {
    return Suggestion(fmt::format("Cancel {}: {}", order.display, top.investigation->name), json::array({remove}));
  }
  json create = {{"type", "create"},
                 {"description", fmt::format("Order {} ({})", top.investigation->name, UrgencyWords(top.urgency))},
                 {"resource", ReplacementOrder(order, top)}};
  return Suggestion(fmt::format("Order {} instead ({})", top.investigation->name, UrgencyWords(top.urgency)),
                    json::array({remove, create}));
}

json PrioritySuggestion(const DraftOrder& order, const Recommendation& recommendation) {
  json updated = order.resource;
  updated["priority"] = PriorityFor(recommendation.urgency);
  return Suggestion(fmt::format("Mark {} as {} ({})", order.display, PriorityFor(recommendation.urgency),
                                UrgencyWords(recommendation.urgency)),
                    json::array({{{"type", "update"},
                                  {"description", "Set the order's priority to what guidance advises"},
                                  {"resource", std::move(updated)}}}));
}

json Card(std::string summary, std::string indicator, std::string detail, json source,
          std::vector<std::string>& card_ids) {
  json card = {{"uuid", GenerateUuid()},
               {"summary", Summary(std::move(summary))},
               {"indicator", std::move(indicator)},
               {"detail", std::move(detail)},
               {"source", std::move(source)}};
  card_ids.push_back(card["uuid"].get<std::string>());
  return card;
}

const Recommendation* RecommendationFor(const Outcome& outcome, const std::string& code) {
  for (const auto& r : outcome.recommendations) {
    if (r.investigation->code == code) return &r;
  }
  return nullptr;
}

}  // namespace

json OverrideReasons() {
  auto reason = [](const char* code, const char* display) {
    return json{{"system", kOverrideReasonSystem}, {"code", code}, {"display", display}};
  };
  return json::array({reason("clinical-judgement", "Clinical judgement: findings not captured here"),
                      reason("red-flag-present", "A red flag is present that is not recorded"),
                      reason("specialist-advice", "Requested on specialist advice"),
                      reason("previous-test-inconclusive", "Previous test inconclusive"),
                      reason("patient-factors", "Patient-specific factors (e.g. contraindication)")});
}

std::string PriorityFor(Urgency urgency) {
  switch (urgency) {
    case Urgency::kImmediate: return "stat";
    case Urgency::kWithin24Hours:
    case Urgency::kWithin48Hours: return "asap";
    case Urgency::kWithin2Weeks: return "urgent";
    case Urgency::kRoutine:
    case Urgency::kNone: return "routine";
  }
  return "routine";
}

std::string VerdictWord(const DraftOrder& order, const Outcome& outcome) {
  if (!outcome.ok()) return "error";
  if (!order.requested || !outcome.verdict) return "not-checked";
  return std::string(ToString(outcome.verdict->verdict));
}

json CardsForOrder(const KnowledgeBase& knowledge, const DraftOrder& order, const Outcome& outcome,
                   const std::string& consultation_id, std::vector<std::string>& card_ids) {
  json cards = json::array();
  if (!outcome.ok()) {
    std::string problems;
    for (const auto& error : outcome.errors) problems += (problems.empty() ? "" : "; ") + error.message;
    cards.push_back(Card(fmt::format("{} could not be checked: {}", order.display, problems), "warning",
                         fmt::format("Decision support needs this information to check the order: {}.\n\n"
                                     "Consultation {}.", problems, consultation_id),
                         CardSource(nullptr), card_ids));
    return cards;
  }
  if (!order.requested) {
    cards.push_back(Card(fmt::format("{}: not in the imaging catalogue, so not checked", order.display), "info",
                         fmt::format("dxhub holds no guidance for this test code.\n\nConsultation {}.", consultation_id),
                         CardSource(nullptr), card_ids));
    return cards;
  }
  const RequestVerdict& verdict = *outcome.verdict;
  const Recommendation* top = outcome.recommendations.empty() ? nullptr : &outcome.recommendations.front();
  const bool top_is_other = top != nullptr && top->investigation->code != *order.requested;
  switch (verdict.verdict) {
    case Verdict::kNotAppropriate: {
      const bool emergency = top != nullptr && top->urgency == Urgency::kImmediate;
      std::string summary =
          !top_is_other ? fmt::format("{} is usually not appropriate here", order.display)
          : top->investigation->modality == Modality::kNone
              ? fmt::format("{} is usually not appropriate: guidance advises no imaging", order.display)
              : fmt::format("{} is usually not appropriate: {} advised ({})", order.display, top->investigation->name,
                            UrgencyWords(top->urgency));
      json card = Card(std::move(summary), emergency ? "critical" : "warning",
                       Detail(knowledge, outcome, fmt::format("**Why not {}:** {}", order.display, verdict.reason), consultation_id),
                       CardSource(verdict.rule), card_ids);
      if (top_is_other) {
        card["suggestions"] = json::array({ReplaceSuggestion(order, *top)});
        card["selectionBehavior"] = "at-most-one";
      }
      card["overrideReasons"] = OverrideReasons();
      cards.push_back(std::move(card));
      break;
    }
    case Verdict::kMayBeAppropriate: {
      const bool better = top_is_other && top->score > verdict.score.value_or(0);
      json card = Card(better ? fmt::format("{} may be appropriate; {} is preferred", order.display, top->investigation->name)
                              : fmt::format("{} may be appropriate", order.display),
                       better ? "warning" : "info",
                       Detail(knowledge, outcome, fmt::format("**{}:** {}", order.display, verdict.reason), consultation_id),
                       CardSource(verdict.rule), card_ids);
      if (better) {
        card["suggestions"] = json::array({ReplaceSuggestion(order, *top)});
        card["selectionBehavior"] = "at-most-one";
        card["overrideReasons"] = OverrideReasons();
      }
      cards.push_back(std::move(card));
      break;
    }
    case Verdict::kAppropriate: {
      const Recommendation* own = RecommendationFor(outcome, *order.requested);
      std::string lead = fmt::format("**{}:** {}", order.display, verdict.reason);
      for (const auto& caution : verdict.cautions) lead += fmt::format("\n\n**Caution ({}):** {}", caution.rule->id, *caution.reason);
      if (own != nullptr && PriorityRank(PriorityFor(own->urgency)) > PriorityRank(order.priority)) {
        json card = Card(fmt::format("{} is appropriate; guidance says {}", order.display, UrgencyWords(own->urgency)),
                         own->urgency == Urgency::kImmediate ? "critical" : "warning",
                         Detail(knowledge, outcome, lead, consultation_id), CardSource(verdict.rule), card_ids);
        card["suggestions"] = json::array({PrioritySuggestion(order, *own)});
        card["selectionBehavior"] = "at-most-one";
        card["overrideReasons"] = OverrideReasons();
        cards.push_back(std::move(card));
      } else {
        cards.push_back(Card(fmt::format("{} is appropriate ({})", order.display, SourceLabel(*verdict.rule)), "info",
                             Detail(knowledge, outcome, lead, consultation_id), CardSource(verdict.rule), card_ids));
      }
      break;
    }
    case Verdict::kNoGuidance: {
      if (top != nullptr) {
        json card = Card(fmt::format("No guidance supports {}; guidance advises {} ({})", order.display,
                                     top->investigation->name, UrgencyWords(top->urgency)),
                         top->urgency == Urgency::kImmediate ? "critical" : "info",
                         Detail(knowledge, outcome, fmt::format("No rule that matches this presentation mentions {}.", order.display),
                                consultation_id),
                         CardSource(top->rule), card_ids);
        card["suggestions"] = json::array({ReplaceSuggestion(order, *top)});
        card["selectionBehavior"] = "at-most-one";
        card["overrideReasons"] = OverrideReasons();
        cards.push_back(std::move(card));
      } else if (!outcome.asks.empty()) {
        std::string questions;
        for (const auto& ask : outcome.asks) {
          const Finding& finding = knowledge.findings().at(ask.finding);
          questions += "\n- " + (finding.question.empty() ? finding.label : finding.question);
        }
        cards.push_back(Card(fmt::format("No guidance yet for {}: more information would help", order.display), "info",
                             fmt::format("No rule matches what is recorded. These would change the answer:{}\n\n"
                                         "Consultation {}.", questions, consultation_id),
                             CardSource(outcome.asks.front().rule), card_ids));
      }
      break;
    }
  }
  return cards;
}

json ConsultationAction(const DraftOrder& order, const Outcome& outcome, const std::string& consultation_id) {
  json updated = order.resource;
  json extension = {{"url", kConsultationExtension},
                    {"extension", json::array({{{"url", "consultation"}, {"valueString", consultation_id}},
                                               {{"url", "verdict"}, {"valueCode", VerdictWord(order, outcome)}}})}};
  if (outcome.verdict && outcome.verdict->rule != nullptr) {
    extension["extension"].push_back({{"url", "rule"},
                                      {"valueString", fmt::format("{} v{}", outcome.verdict->rule->id,
                                                                  outcome.verdict->rule->version)}});
  }
  json extensions = updated.value("extension", json::array());
  if (!extensions.is_array()) extensions = json::array();
  extensions.push_back(std::move(extension));
  updated["extension"] = std::move(extensions);
  return {{"type", "update"}, {"description", "Record that decision support was consulted for this order"},
          {"resource", std::move(updated)}};
}

}  // namespace dx::cds::hooks
