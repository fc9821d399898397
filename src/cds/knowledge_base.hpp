// A loaded, validated knowledge base: vocabularies, topics and rules with the
// indexes the evaluator needs. Built by the loader (or tests) through Builder
// methods, then immutable; share one const instance between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cds/model.hpp"
#include "cds/vocabulary.hpp"

namespace dx::cds {

class KnowledgeBase {
 public:
  const FindingVocabulary& findings() const { return findings_; }
  const InvestigationCatalogue& investigations() const { return investigations_; }
  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<Topic>& topics() const { return topics_; }

  std::optional<std::size_t> FindRule(std::string_view id) const;
  // Indexes of the rules that name this finding in a positive criterion group
  // (all_of, any_of, red_flags, history, history_any), ascending. A rule can only
  // match or nearly match when one of these findings is present.
  const std::vector<std::uint32_t>& RulesMentioning(FindingIndex finding) const;
  std::optional<std::size_t> FindTopic(std::string_view id) const;

  // Mutators used while loading; not to be called once the base is shared.
  FindingVocabulary& mutable_findings() { return findings_; }
  InvestigationCatalogue& mutable_investigations() { return investigations_; }
  // Adds a rule to its topic (which must already be added); the caller has
  // checked that the id is new.
  void AddTopic(Topic topic);
  void AddRule(Rule rule);

 private:
  FindingVocabulary findings_;
  InvestigationCatalogue investigations_;
  std::vector<Rule> rules_;
  std::vector<Topic> topics_;
  std::vector<std::vector<std::uint32_t>> rules_by_finding_;
  StringMap<std::size_t> rule_by_id_;
  StringMap<std::size_t> topic_by_id_;
};

}  // namespace dx::cds
