#include "scenario_runner.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "cds/evaluator.hpp"

namespace dx::cds::testing {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(", ");
    out.append(items[i]);
  }
  out.push_back(']');
  return out;
}

std::vector<std::string> StringList(const toml::node* node, std::vector<std::string>& problems, const std::string& key) {
  std::vector<std::string> out;
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    problems.push_back(key + " must be an array of strings");
    return out;
  }
  for (const auto& element : *array) {
    if (element.is_string()) {
      out.push_back(element.as_string()->get());
    } else {
      problems.push_back(key + " must contain only strings");
    }
  }
  return out;
}

std::string Summary(const Outcome& outcome) {
  std::vector<std::string> recs;
  for (const auto& r : outcome.recommendations) {
    recs.push_back(r.investigation->code + "/" + std::string(ToString(r.urgency)) + "/" + r.rule->id);
  }
  std::vector<std::string> errors;
  for (const auto& e : outcome.errors) errors.push_back(e.message);
  std::string out = "got recommendations " + Join(recs);
  if (!errors.empty()) out += ", errors " + Join(errors);
  if (!outcome.unknown_findings.empty()) out += ", unknown " + Join(outcome.unknown_findings);
  if (outcome.verdict) out += ", verdict " + std::string(ToString(outcome.verdict->verdict));
  return out;
}

void RunCase(const KnowledgeBase& knowledge, const std::string& name, const toml::table& table, std::size_t ordinal,
             std::set<std::string>& seen_ids, ScenarioResult& result) {
  static const std::set<std::string, std::less<>> kCaseKeys{"id", "rule", "description", "age", "sex",
                                                            "findings", "history", "requested", "expect"};
  static const std::set<std::string, std::less<>> kExpectKeys{"top", "urgency", "rule", "verdict", "matched",
                                                              "not_matched", "asks", "unknown", "error"};
  std::vector<std::string> problems;
  std::string id = "#";
  id += std::to_string(ordinal);
  if (auto node = table.get_as<std::string>("id")) {
    id = node->get();
    if (!seen_ids.insert(id).second) problems.push_back("duplicate case id");
  } else {
    problems.push_back("missing id");
  }
  for (const auto& [key, node] : table) {
    if (!kCaseKeys.contains(key.str())) problems.push_back("unknown key '" + std::string(key.str()) + "'");
  }
  std::string rule_id;
  if (auto node = table.get_as<std::string>("rule")) {
    rule_id = node->get();
    result.rules_exercised.insert(rule_id);
    if (!knowledge.FindRule(rule_id)) problems.push_back("rule '" + rule_id + "' does not exist");
  } else {
    problems.push_back("missing rule");
  }
  if (!table.get_as<std::string>("description")) problems.push_back("missing description");

  Case input;
  if (const toml::node* age = table.get("age")) {
    if (age->is_integer()) {
      input.age = static_cast<double>(age->as_integer()->get());
    } else if (age->is_floating_point()) {
      input.age = age->as_floating_point()->get();
    } else {
      problems.push_back("age must be a number");
    }
  }
  if (auto sex = table.get_as<std::string>("sex")) {
    if (auto parsed = ParsePatientSex(sex->get())) {
      input.sex = *parsed;
    } else {
      problems.push_back("sex must be female, male or unknown");
    }
  }
  for (auto& text : StringList(table.get("findings"), problems, "findings")) input.findings.push_back({text, true});
  for (auto& text : StringList(table.get("history"), problems, "history")) input.history.push_back({text, true});
  if (auto requested = table.get_as<std::string>("requested")) input.requested = requested->get();

  const toml::table* expect = table.get_as<toml::table>("expect");
  if (expect == nullptr || expect->empty()) {
    problems.push_back("missing expect");
  } else {
    for (const auto& [key, node] : *expect) {
      if (!kExpectKeys.contains(key.str())) problems.push_back("unknown expect key '" + std::string(key.str()) + "'");
    }
  }
  auto expect_string = [&](std::string_view key) -> std::optional<std::string> {
    if (expect == nullptr) return std::nullopt;
    const toml::node* node = expect->get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      problems.push_back("expect." + std::string(key) + " must be a string");
      return std::nullopt;
    }
    return node->as_string()->get();
  };
  auto top = expect_string("top");
  auto urgency = expect_string("urgency");
  auto top_rule = expect_string("rule");
  auto verdict = expect_string("verdict");
  auto error = expect_string("error");
  auto matched = StringList(expect ? expect->get("matched") : nullptr, problems, "expect.matched");
  auto not_matched = StringList(expect ? expect->get("not_matched") : nullptr, problems, "expect.not_matched");
  auto asks = StringList(expect ? expect->get("asks") : nullptr, problems, "expect.asks");
  auto unknown = StringList(expect ? expect->get("unknown") : nullptr, problems, "expect.unknown");

  // Catch typos in the expectations themselves.
  if (top && *top != "none" && !knowledge.investigations().FindCode(*top)) problems.push_back("expect.top '" + *top + "' is not an investigation code");
  if (urgency && !ParseUrgency(*urgency)) problems.push_back("expect.urgency '" + *urgency + "' is not an urgency");
  if (verdict && !ParseVerdict(*verdict)) problems.push_back("expect.verdict '" + *verdict + "' is not a verdict");
  if (verdict && !input.requested) problems.push_back("expect.verdict needs requested");
  if (top_rule && !knowledge.FindRule(*top_rule)) problems.push_back("expect.rule '" + *top_rule + "' does not exist");
  for (const auto* list : {&matched, &not_matched}) {
    for (const auto& r : *list) {
      if (!knowledge.FindRule(r)) problems.push_back("expected rule '" + r + "' does not exist");
    }
  }
  for (const auto& f : asks) {
    if (!knowledge.findings().FindId(f)) problems.push_back("expect.asks finding '" + f + "' does not exist");
  }

  if (problems.empty()) {
    const Outcome outcome = Evaluate(knowledge, input);
    std::vector<std::string> mismatches;
    const Recommendation* first = outcome.recommendations.empty() ? nullptr : &outcome.recommendations[0];
    if (error) {
      bool found = std::any_of(outcome.errors.begin(), outcome.errors.end(), [&](const InputError& e) {
        return e.message.find(*error) != std::string::npos || e.field == *error;
      });
      if (!found) mismatches.push_back("expected an input error containing '" + *error + "'");
    } else if (!outcome.ok()) {
      mismatches.push_back("unexpected input error");
    }
    if (top) {
      std::string got = first ? first->investigation->code : "none";
      if (got != *top) mismatches.push_back("expected top " + *top + ", got " + got);
    }
    if (urgency) {
      std::string got = first ? std::string(ToString(first->urgency)) : "(no recommendation)";
      if (got != *urgency) mismatches.push_back("expected urgency " + *urgency + ", got " + got);
    }
    if (top_rule) {
      std::string got = first ? first->rule->id : "(no recommendation)";
      if (got != *top_rule) mismatches.push_back("expected rule " + *top_rule + ", got " + got);
    }
    if (verdict) {
      std::string got = outcome.verdict ? std::string(ToString(outcome.verdict->verdict)) : "(no verdict)";
      if (got != *verdict) mismatches.push_back("expected verdict " + *verdict + ", got " + got);
    }
    auto is_matched = [&](const std::string& r) {
      return std::any_of(outcome.matched_rules.begin(), outcome.matched_rules.end(),
                         [&](const Rule* m) { return m->id == r; });
    };
    for (const auto& r : matched) {
      if (!is_matched(r)) mismatches.push_back("expected rule " + r + " to match");
    }
    for (const auto& r : not_matched) {
      if (is_matched(r)) mismatches.push_back("expected rule " + r + " not to match");
    }
    for (const auto& f : asks) {
      bool asked = std::any_of(outcome.asks.begin(), outcome.asks.end(),
                               [&](const Ask& a) { return knowledge.findings().at(a.finding).id == f; });
      if (!asked) mismatches.push_back("expected an ask for " + f);
    }
    for (const auto& u : unknown) {
      if (std::find(outcome.unknown_findings.begin(), outcome.unknown_findings.end(), u) ==
          outcome.unknown_findings.end()) {
        mismatches.push_back("expected '" + u + "' to be reported unknown");
      }
    }
    if (!error && !outcome.unknown_findings.empty() && unknown.empty()) {
      mismatches.push_back("unexpected unknown findings " + Join(outcome.unknown_findings));
    }
    if (!mismatches.empty()) {
      std::string line = name + ": case " + id + " (rule " + rule_id + "): " + Join(mismatches) + "; " + Summary(outcome);
      result.failures.push_back(std::move(line));
    }
  } else {
    result.failures.push_back(name + ": case " + id + ": invalid vignette: " + Join(problems));
  }
  ++result.cases;
}

}  // namespace

void RunScenarioText(const KnowledgeBase& knowledge, const std::string& name, const std::string& text,
                     std::set<std::string>& seen_ids, ScenarioResult& result) {
  ++result.files;
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    result.failures.push_back(name + ":" + std::to_string(e.source().begin.line) + ": TOML syntax error: " +
                              std::string(e.description()));
    return;
  }
  for (const auto& [key, node] : root) {
    if (key.str() != "case") result.failures.push_back(name + ": unknown top-level key '" + std::string(key.str()) + "'");
  }
  const toml::array* cases = root.get_as<toml::array>("case");
  if (cases == nullptr) {
    result.failures.push_back(name + ": no [[case]] entries");
    return;
  }
  std::size_t ordinal = 0;
  for (const auto& node : *cases) {
    ++ordinal;
    if (!node.is_table()) {
      result.failures.push_back(name + ": case #" + std::to_string(ordinal) + " is not a table");
      continue;
    }
    RunCase(knowledge, name, *node.as_table(), ordinal, seen_ids, result);
  }
}

ScenarioResult RunScenarioDirectory(const KnowledgeBase& knowledge, const std::filesystem::path& dir) {
  ScenarioResult result;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return result;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::set<std::string> seen_ids;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    RunScenarioText(knowledge, path.filename().string(), text.str(), seen_ids, result);
  }
  return result;
}

}  // namespace dx::cds::testing
