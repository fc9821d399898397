#include "cds/knowledge_base.hpp"

#include <utility>

namespace dx::cds {

std::optional<std::size_t> KnowledgeBase::FindRule(std::string_view id) const {
  if (auto it = rule_by_id_.find(id); it != rule_by_id_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::size_t> KnowledgeBase::FindTopic(std::string_view id) const {
  if (auto it = topic_by_id_.find(id); it != topic_by_id_.end()) return it->second;
  return std::nullopt;
}

void KnowledgeBase::AddTopic(Topic topic) {
  topic_by_id_.emplace(topic.id, topics_.size());
  topics_.push_back(std::move(topic));
}

const std::vector<std::uint32_t>& KnowledgeBase::RulesMentioning(FindingIndex finding) const {
  static const std::vector<std::uint32_t> kNone;
  return finding < rules_by_finding_.size() ? rules_by_finding_[finding] : kNone;
}

void KnowledgeBase::AddRule(Rule rule) {
  const std::size_t index = rules_.size();
  for (const auto* group : {&rule.all_of, &rule.any_of, &rule.red_flags, &rule.history, &rule.history_any}) {
    for (FindingIndex f : *group) {
      if (f >= rules_by_finding_.size()) rules_by_finding_.resize(f + 1);
      auto& list = rules_by_finding_[f];
      if (list.empty() || list.back() != index) list.push_back(static_cast<std::uint32_t>(index));
    }
  }
  if (auto topic = FindTopic(rule.topic)) topics_[*topic].rules.push_back(index);
  rule_by_id_.emplace(rule.id, index);
  rules_.push_back(std::move(rule));
}

}  // namespace dx::cds
