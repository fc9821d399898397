#include "cds/json.hpp"

#include <cmath>
#include <string>

namespace dx::cds {
namespace {

using nlohmann::json;

Result<FindingInput> EntryFromJson(const json& entry, const std::string& where) {
  if (entry.is_string()) return FindingInput{entry.get<std::string>(), true};
  if (!entry.is_object()) return Fail(ErrorCode::kInvalidInput, where + " must be a string or an object");
  FindingInput out;
  bool have_text = false;
  for (const auto& [key, value] : entry.items()) {
    if (key == "code" || key == "text") {
      if (!value.is_string()) return Fail(ErrorCode::kInvalidInput, where + "." + key + " must be a string");
      if (have_text) return Fail(ErrorCode::kInvalidInput, where + " must have only one of code or text");
      out.text = value.get<std::string>();
      have_text = true;
    } else if (key == "present") {
      if (!value.is_boolean()) return Fail(ErrorCode::kInvalidInput, where + ".present must be true or false");
      out.present = value.get<bool>();
    } else {
      return Fail(ErrorCode::kInvalidInput, where + " has unknown key '" + key + "'");
    }
  }
  if (!have_text) return Fail(ErrorCode::kInvalidInput, where + " needs code or text");
  return out;
}

Result<std::vector<FindingInput>> EntriesFromJson(const json& value, const std::string& field) {
  if (!value.is_array()) return Fail(ErrorCode::kInvalidInput, field + " must be an array");
  std::vector<FindingInput> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto entry = EntryFromJson(value[i], field + "[" + std::to_string(i) + "]");
    if (!entry) return tl::unexpected(entry.error());
    out.push_back(std::move(*entry));
  }
  return out;
}

json EntriesToJson(const std::vector<FindingInput>& entries) {
  json out = json::array();
  for (const auto& entry : entries) {
    if (entry.present) {
      out.push_back(entry.text);
    } else {
      out.push_back({{"text", entry.text}, {"present", false}});
    }
  }
  return out;
}

json RuleRef(const Rule& rule) {
  return {{"id", rule.id}, {"version", rule.version}, {"title", rule.title}, {"topic", rule.topic}};
}

json SourceJson(const Source& source) {
  json out = {{"guideline", source.guideline}, {"recommendation", source.recommendation}, {"url", source.url}};
  if (!source.edition.empty()) out["edition"] = source.edition;
  return out;
}

json InvestigationJson(const Investigation& inv) {
  json out = {{"code", inv.code},
              {"name", inv.name},
              {"modality", ToString(inv.modality)},
              {"region", inv.region},
              {"contrast", inv.contrast},
              {"dose_msv", inv.dose_msv},
              {"dose_band", ToString(inv.dose_band)}};
  if (!inv.snomed.empty()) out["snomed"] = inv.snomed;
  return out;
}

json AppliesToJson(const Rule& rule) {
  json out = json::object();
  if (rule.age_min > 0.0) out["age_min"] = rule.age_min;
  if (std::isfinite(rule.age_max)) out["age_max"] = rule.age_max;
  if (std::isfinite(rule.age_below)) out["age_below"] = rule.age_below;
  out["sex"] = ToString(rule.sex);
  return out;
}

}  // namespace

Result<Case> CaseFromJson(const json& value) {
  if (!value.is_object()) return Fail(ErrorCode::kInvalidInput, "case must be a JSON object");
  Case out;
  for (const auto& [key, field] : value.items()) {
    if (key == "age") {
      if (field.is_null()) continue;
      if (!field.is_number()) return Fail(ErrorCode::kInvalidInput, "age must be a number of years");
      out.age = field.get<double>();
    } else if (key == "sex") {
      if (!field.is_string()) return Fail(ErrorCode::kInvalidInput, "sex must be a string");
      auto sex = ParsePatientSex(field.get<std::string>());
      if (!sex) {
        return Fail(ErrorCode::kInvalidInput,
                    "sex must be female, male or unknown, not '" + field.get<std::string>() + "'");
      }
      out.sex = *sex;
    } else if (key == "findings" || key == "history") {
      auto entries = EntriesFromJson(field, key);
      if (!entries) return tl::unexpected(entries.error());
      (key == "findings" ? out.findings : out.history) = std::move(*entries);
    } else if (key == "requested") {
      if (field.is_null()) continue;
      if (!field.is_string()) return Fail(ErrorCode::kInvalidInput, "requested must be a string");
      out.requested = field.get<std::string>();
    } else {
      return Fail(ErrorCode::kInvalidInput, "case has unknown key '" + key + "'");
    }
  }
  return out;
}

json CaseToJson(const Case& input) {
  json out = json::object();
  if (input.age) out["age"] = *input.age;
  out["sex"] = ToString(input.sex);
  out["findings"] = EntriesToJson(input.findings);
  out["history"] = EntriesToJson(input.history);
  if (input.requested) out["requested"] = *input.requested;
  return out;
}

json OutcomeToJson(const KnowledgeBase& knowledge, const Outcome& outcome) {
  const auto& vocabulary = knowledge.findings();
  json out = json::object();
  out["ok"] = outcome.ok();

  json errors = json::array();
  for (const auto& error : outcome.errors) errors.push_back({{"field", error.field}, {"message", error.message}});
  out["errors"] = std::move(errors);

  json findings = json::array();
  for (const auto& mention : outcome.mentions) {
    json entry = {{"input", mention.input}, {"present", mention.present}};
    if (mention.finding) {
      entry["finding"] = vocabulary.at(*mention.finding).id;
      entry["label"] = vocabulary.at(*mention.finding).label;
    } else {
      entry["finding"] = nullptr;
    }
    findings.push_back(std::move(entry));
  }
  out["findings"] = std::move(findings);
  out["unknown_findings"] = outcome.unknown_findings;

  json recommendations = json::array();
  int rank = 0;
  for (const auto& rec : outcome.recommendations) {
    json criteria = json::array();
    for (const auto& c : rec.criteria) {
      criteria.push_back({{"group", ToString(c.group)},
                          {"finding", vocabulary.at(c.finding).id},
                          {"label", vocabulary.at(c.finding).label}});
    }
    json also = json::array();
    for (const Rule* rule : rec.also_supported_by) also.push_back(rule->id);
    recommendations.push_back({{"rank", ++rank},
                               {"investigation", InvestigationJson(*rec.investigation)},
                               {"score", rec.score},
                               {"band", ToString(rec.band)},
                               {"urgency", ToString(rec.urgency)},
                               {"note", rec.note != nullptr ? *rec.note : std::string()},
                               {"rule", RuleRef(*rec.rule)},
                               {"rationale", rec.rule->rationale},
                               {"source", SourceJson(rec.rule->source)},
                               {"applies_to", AppliesToJson(*rec.rule)},
                               {"criteria", std::move(criteria)},
                               {"also_supported_by", std::move(also)}});
  }
  out["recommendations"] = std::move(recommendations);

  if (outcome.verdict) {
    const auto& v = *outcome.verdict;
    json verdict = {{"requested", {{"code", v.investigation->code}, {"name", v.investigation->name}}},
                    {"verdict", ToString(v.verdict)},
                    {"reason", v.reason}};
    if (v.score) {
      verdict["score"] = *v.score;
      verdict["band"] = ToString(ScoreBandFor(*v.score));
    }
    if (v.rule != nullptr) {
      verdict["rule"] = RuleRef(*v.rule);
      verdict["source"] = SourceJson(v.rule->source);
    }
    json cautions = json::array();
    for (const auto& c : v.cautions) cautions.push_back({{"rule", c.rule->id}, {"reason", *c.reason}});
    verdict["cautions"] = std::move(cautions);
    out["verdict"] = std::move(verdict);
  } else {
    out["verdict"] = nullptr;
  }

  json asks = json::array();
  for (const auto& ask : outcome.asks) {
    const Finding& finding = vocabulary.at(ask.finding);
    asks.push_back({{"finding", finding.id},
                    {"label", finding.label},
                    {"question", finding.question.empty() ? finding.label + "?" : finding.question},
                    {"rule", ask.rule->id},
                    {"reason", ask.reason == AskReason::kRuleAsks ? "changes-answer" : "near-miss"}});
  }
  out["asks"] = std::move(asks);

  json matched = json::array();
  for (const Rule* rule : outcome.matched_rules) matched.push_back({{"id", rule->id}, {"version", rule->version}});
  out["matched_rules"] = std::move(matched);
  return out;
}

}  // namespace dx::cds
