#include "cds/evaluator.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <utility>

namespace dx::cds {
namespace {

constexpr double kMaxAge = 130.0;

// A set of finding indexes as a bit vector: one allocation, word-sized tests.
class FindingSet {
 public:
  explicit FindingSet(std::size_t size) : words_((size + 63) / 64, 0) {}
  void Set(FindingIndex i) { words_[i >> 6] |= std::uint64_t{1} << (i & 63); }
  bool Test(FindingIndex i) const { return (words_[i >> 6] >> (i & 63)) & 1U; }
  const std::vector<std::uint64_t>& words() const { return words_; }

 private:
  std::vector<std::uint64_t> words_;
};

// Ranking: most urgent first, then highest score, then rule id.
auto RuleKey(const Rule& rule, int score) { return std::make_tuple(rule.urgency, -score, std::string_view(rule.id)); }

struct Group {
  CriterionGroup kind;
  const std::vector<FindingIndex>* members;
  int required;
};

struct RuleCheck {
  bool matched = false;
  bool near_miss = false;
  int failing = 0;
  const Group* failed_group = nullptr;
  bool any_positive = false;
};

bool AppliesToPatient(const Rule& rule, double age, PatientSex sex) {
  if (age < rule.age_min || age > rule.age_max || age >= rule.age_below) return false;
  switch (rule.sex) {
    case RuleSex::kAny: return true;
    case RuleSex::kFemale: return sex == PatientSex::kFemale;
    case RuleSex::kMale: return sex == PatientSex::kMale;
  }
  return false;
}

int CountPresent(const std::vector<FindingIndex>& members, const FindingSet& present) {
  int count = 0;
  for (FindingIndex f : members) count += present.Test(f) ? 1 : 0;
  return count;
}

struct Candidate {
  const Rule* rule;
  const RecommendItem* item;
};

}  // namespace

Outcome Evaluate(const KnowledgeBase& knowledge, const Case& input) {
  Outcome out;
  const FindingVocabulary& vocabulary = knowledge.findings();
  FindingSet present(vocabulary.size());
  FindingSet absent(vocabulary.size());

  out.mentions.reserve(input.findings.size() + input.history.size());
  auto resolve = [&](const std::vector<FindingInput>& entries) {
    for (const auto& entry : entries) {
      FindingMention mention = vocabulary.Resolve(entry);
      if (!mention.finding) {
        out.unknown_findings.push_back(entry.text);
      } else if (mention.present) {
        present.Set(*mention.finding);
        for (FindingIndex f : vocabulary.at(*mention.finding).implies_closure) present.Set(f);
      } else {
        absent.Set(*mention.finding);
        for (FindingIndex f : vocabulary.at(*mention.finding).implied_by) absent.Set(f);
      }
      out.mentions.push_back(std::move(mention));
    }
  };
  resolve(input.findings);
  resolve(input.history);

  // ---- input errors ----
  if (!input.age) {
    out.errors.push_back({"age", "age is required (years)"});
  } else if (!std::isfinite(*input.age) || *input.age < 0.0 || *input.age > kMaxAge) {
    out.errors.push_back({"age", "age must be between 0 and 130 years"});
  }
  const auto& present_words = present.words();
  const auto& absent_words = absent.words();
  for (std::size_t w = 0; w < present_words.size(); ++w) {
    std::uint64_t both = present_words[w] & absent_words[w];
    while (both != 0) {
      const auto bit = static_cast<FindingIndex>(std::countr_zero(both));
      both &= both - 1;
      const Finding& finding = vocabulary.at(static_cast<FindingIndex>(w * 64 + bit));
      out.errors.push_back({"findings", "contradictory findings: '" + finding.id + "' (" + finding.label +
                                            ") is given as both present and absent"});
    }
  }
  const Investigation* requested = nullptr;
  if (input.requested) {
    auto index = knowledge.investigations().Resolve(*input.requested);
    if (!index) {
      out.errors.push_back({"requested", "unknown requested test '" + *input.requested + "'"});
    } else {
      requested = &knowledge.investigations().at(*index);
    }
  }
  if (!out.errors.empty()) return out;

  const double age = *input.age;

  // ---- rule matching ----
  std::vector<Candidate> candidates;
  struct Pending {
    const Rule* rule;
    FindingIndex finding;
    AskReason reason;
    std::size_t order;  // position within the rule's list
  };
  std::vector<Pending> pending_asks;
  std::vector<const Rule*> near_misses;
  std::vector<std::vector<FindingIndex>> near_miss_candidates;

  // Only rules naming a present finding can match or nearly match.
  std::vector<std::uint32_t> candidate_rules;
  for (std::size_t w = 0; w < present_words.size(); ++w) {
    std::uint64_t word = present_words[w];
    while (word != 0) {
      const auto f = static_cast<FindingIndex>(w * 64 + std::countr_zero(word));
      word &= word - 1;
      const auto& rules = knowledge.RulesMentioning(f);
      candidate_rules.insert(candidate_rules.end(), rules.begin(), rules.end());
    }
  }
  std::sort(candidate_rules.begin(), candidate_rules.end());
  candidate_rules.erase(std::unique(candidate_rules.begin(), candidate_rules.end()), candidate_rules.end());

  for (std::uint32_t rule_index : candidate_rules) {
    const Rule& rule = knowledge.rules()[rule_index];
    if (!AppliesToPatient(rule, age, input.sex)) continue;
    bool excluded = false;
    for (FindingIndex f : rule.none_of) {
      if (present.Test(f)) {
        excluded = true;
        break;
      }
    }
    if (excluded) continue;

    const Group groups[] = {
        {CriterionGroup::kAllOf, &rule.all_of, static_cast<int>(rule.all_of.size())},
        {CriterionGroup::kAnyOf, &rule.any_of, rule.any_of.empty() ? 0 : rule.any_of_min},
        {CriterionGroup::kRedFlags, &rule.red_flags, rule.red_flags.empty() ? 0 : 1},
        {CriterionGroup::kHistory, &rule.history, static_cast<int>(rule.history.size())},
        {CriterionGroup::kHistoryAny, &rule.history_any, rule.history_any.empty() ? 0 : 1},
    };
    RuleCheck check;
    bool one_short = true;
    for (const Group& group : groups) {
      if (group.members->empty()) continue;
      const int count = CountPresent(*group.members, present);
      if (count > 0) check.any_positive = true;
      if (count < group.required) {
        ++check.failing;
        check.failed_group = &group;
        one_short = group.required - count == 1;
      }
    }
    if (check.failing == 0) {
      out.matched_rules.push_back(&rule);
      for (const auto& item : rule.recommend) candidates.push_back({&rule, &item});
      for (std::size_t i = 0; i < rule.asks.size(); ++i) {
        FindingIndex f = rule.asks[i];
        if (!present.Test(f) && !absent.Test(f)) pending_asks.push_back({&rule, f, AskReason::kRuleAsks, i});
      }
      continue;
    }
    if (check.failing == 1 && one_short && check.any_positive) {
      std::vector<FindingIndex> missing;
      for (FindingIndex f : *check.failed_group->members) {
        if (!present.Test(f) && !absent.Test(f)) missing.push_back(f);
      }
      if (!missing.empty()) {
        near_misses.push_back(&rule);
        near_miss_candidates.push_back(std::move(missing));
      }
    }
  }

  // ---- recommendations ----
  auto candidate_key = [&](const Candidate& c) {
    return std::make_tuple(c.rule->urgency, -c.item->score, std::string_view(c.rule->id),
                           std::string_view(knowledge.investigations().at(c.item->investigation).code));
  };
  std::sort(candidates.begin(), candidates.end(),
            [&](const Candidate& a, const Candidate& b) { return candidate_key(a) < candidate_key(b); });
  std::sort(out.matched_rules.begin(), out.matched_rules.end(),
            [](const Rule* a, const Rule* b) { return RuleKey(*a, a->score) < RuleKey(*b, b->score); });

  for (const Candidate& c : candidates) {
    const Investigation* investigation = &knowledge.investigations().at(c.item->investigation);
    auto existing = std::find_if(out.recommendations.begin(), out.recommendations.end(),
                                 [&](const Recommendation& r) { return r.investigation == investigation; });
    if (existing != out.recommendations.end()) {
      if (existing->rule != c.rule) existing->also_supported_by.push_back(c.rule);
      continue;
    }
    Recommendation rec;
    rec.rule = c.rule;
    rec.investigation = investigation;
    rec.note = &c.item->note;
    rec.score = c.item->score;
    rec.band = ScoreBandFor(c.item->score);
    rec.urgency = c.rule->urgency;
    const std::pair<CriterionGroup, const std::vector<FindingIndex>*> groups[] = {
        {CriterionGroup::kAllOf, &c.rule->all_of},     {CriterionGroup::kAnyOf, &c.rule->any_of},
        {CriterionGroup::kRedFlags, &c.rule->red_flags}, {CriterionGroup::kHistory, &c.rule->history},
        {CriterionGroup::kHistoryAny, &c.rule->history_any},
    };
    for (const auto& [kind, members] : groups) {
      for (FindingIndex f : *members) {
        if (present.Test(f)) rec.criteria.push_back({kind, f});
      }
    }
    out.recommendations.push_back(std::move(rec));
  }

  // ---- verdict on the requested test ----
  if (requested != nullptr) {
    RequestVerdict verdict;
    verdict.investigation = requested;
    auto recommended = std::find_if(out.recommendations.begin(), out.recommendations.end(),
                                    [&](const Recommendation& r) { return r.investigation == requested; });
    const Rule* against_rule = nullptr;
    const std::string* against_reason = nullptr;
    for (const Rule* rule : out.matched_rules) {
      for (const auto& item : rule->advise_against) {
        if (&knowledge.investigations().at(item.investigation) != requested) continue;
        if (recommended != out.recommendations.end()) {
          verdict.cautions.push_back({rule, &item.reason});
        } else if (against_rule == nullptr) {
          against_rule = rule;
          against_reason = &item.reason;
        }
      }
    }
    if (recommended != out.recommendations.end()) {
      verdict.verdict = VerdictFor(recommended->band);
      verdict.score = recommended->score;
      verdict.rule = recommended->rule;
      verdict.reason = recommended->rule->rationale;
    } else if (against_rule != nullptr) {
      verdict.verdict = Verdict::kNotAppropriate;
      verdict.rule = against_rule;
      verdict.reason = *against_reason;
    } else {
      verdict.verdict = Verdict::kNoGuidance;
      verdict.reason = out.matched_rules.empty()
                           ? "No rule in the knowledge base covers this presentation."
                           : "The rules that apply do not mention " + requested->name + "; see the recommendations.";
    }
    out.verdict = std::move(verdict);
  }

  // ---- asks ----
  for (std::size_t n = 0; n < near_misses.size(); ++n) {
    const Rule* rule = near_misses[n];
    // Skip rules that would only repeat what is already recommended as urgently and strongly.
    bool adds_something = false;
    for (const auto& item : rule->recommend) {
      const Investigation* investigation = &knowledge.investigations().at(item.investigation);
      auto existing = std::find_if(out.recommendations.begin(), out.recommendations.end(),
                                   [&](const Recommendation& r) { return r.investigation == investigation; });
      if (existing == out.recommendations.end() || rule->urgency < existing->urgency ||
          (rule->urgency == existing->urgency && item.score > existing->score)) {
        adds_something = true;
      }
    }
    if (!adds_something) continue;
    const auto& missing = near_miss_candidates[n];
    for (std::size_t i = 0; i < missing.size(); ++i) {
      pending_asks.push_back({rule, missing[i], AskReason::kNearMiss, i});
    }
  }
  std::stable_sort(pending_asks.begin(), pending_asks.end(), [](const Pending& a, const Pending& b) {
    return std::make_tuple(RuleKey(*a.rule, a.rule->score), a.order) <
           std::make_tuple(RuleKey(*b.rule, b.rule->score), b.order);
  });
  FindingSet asked(vocabulary.size());
  for (const Pending& p : pending_asks) {
    if (asked.Test(p.finding)) continue;
    asked.Set(p.finding);
    out.asks.push_back({p.finding, p.rule, p.reason});
  }
  return out;
}

}  // namespace dx::cds
