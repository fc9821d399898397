#include "cds/vocabulary.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace dx::cds {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || static_cast<unsigned char>(c) >= 0x80; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool StartsWithWordIgnoringCase(std::string_view text, std::string_view word) {
  if (text.size() <= word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != word[i]) return false;
  }
  return !IsAlnum(text[word.size()]);
}

// Registers term -> index unless another index already holds it.
template <typename Index>
Result<void> AddTerm(StringMap<Index>& map, const std::string& term, Index index,
                     std::string_view what, auto&& name_of) {
  if (term.empty()) return {};
  auto [it, inserted] = map.try_emplace(term, index);
  if (!inserted && it->second != index) {
    return Fail(ErrorCode::kConflict, std::string(what) + " '" + term + "' is already used by " +
                                          std::string(name_of(it->second)));
  }
  return {};
}

}  // namespace

std::string NormaliseTerm(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (IsAlnum(c)) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      pending_space = true;
    }
  }
  return out;
}

std::optional<std::string_view> StripNegation(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '!') {
    auto rest = Trim(text.substr(1));
    if (rest.empty()) return std::nullopt;
    return rest;
  }
  static constexpr std::array<std::string_view, 5> kPhrases{"negative for", "denies", "without", "not", "no"};
  for (auto phrase : kPhrases) {
    if (StartsWithWordIgnoringCase(text, phrase)) {
      auto rest = text.substr(phrase.size());
      while (!rest.empty() && !IsAlnum(rest.front())) rest.remove_prefix(1);
      if (rest.empty()) return std::nullopt;
      return Trim(rest);
    }
  }
  return std::nullopt;
}

// ---- FindingVocabulary ----

Result<FindingIndex> FindingVocabulary::Add(Finding finding) {
  const auto index = static_cast<FindingIndex>(findings_.size());
  if (by_id_.contains(finding.id)) {
    return Fail(ErrorCode::kConflict, "duplicate finding id '" + finding.id + "' (first defined in " +
                                          findings_[by_id_.find(finding.id)->second].file + ")");
  }
  if (!finding.snomed.empty()) {
    if (auto it = by_snomed_.find(finding.snomed); it != by_snomed_.end()) {
      return Fail(ErrorCode::kConflict, "SNOMED id " + finding.snomed + " is already used by finding '" +
                                            findings_[it->second].id + "'");
    }
  }
  auto name_of = [this](FindingIndex i) { return "finding '" + findings_[i].id + "'"; };
  std::vector<std::string> terms{NormaliseTerm(finding.id), NormaliseTerm(finding.label)};
  for (const auto& synonym : finding.synonyms) terms.push_back(NormaliseTerm(synonym));
  for (const auto& term : terms) {
    if (auto r = AddTerm(by_term_, term, index, "term", name_of); !r) {
      // Roll back terms this finding registered before failing.
      for (const auto& t : terms) {
        if (auto it = by_term_.find(t); it != by_term_.end() && it->second == index) by_term_.erase(it);
      }
      return tl::unexpected(r.error());
    }
  }
  by_id_.emplace(finding.id, index);
  if (!finding.snomed.empty()) by_snomed_.emplace(finding.snomed, index);
  findings_.push_back(std::move(finding));
  return index;
}

Result<void> FindingVocabulary::Finalise() {
  const std::size_t n = findings_.size();
  std::vector<std::vector<FindingIndex>> direct(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& id : findings_[i].implies) {
      auto target = FindId(id);
      if (!target) {
        return Fail(ErrorCode::kInvalidInput, findings_[i].file + ": finding '" + findings_[i].id +
                                                  "': implies unknown finding '" + id + "'");
      }
      if (*target == i) {
        return Fail(ErrorCode::kInvalidInput,
                    findings_[i].file + ": finding '" + findings_[i].id + "' implies itself");
      }
      direct[i].push_back(*target);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<bool> seen(n, false);
    std::vector<FindingIndex> stack(direct[i].begin(), direct[i].end());
    std::vector<FindingIndex> closure;
    while (!stack.empty()) {
      FindingIndex f = stack.back();
      stack.pop_back();
      if (f == i) {
        return Fail(ErrorCode::kInvalidInput, findings_[i].file + ": finding '" + findings_[i].id +
                                                  "': implies forms a cycle");
      }
      if (seen[f]) continue;
      seen[f] = true;
      closure.push_back(f);
      for (FindingIndex g : direct[f]) stack.push_back(g);
    }
    std::sort(closure.begin(), closure.end());
    findings_[i].implies_closure = std::move(closure);
  }
  for (auto& finding : findings_) finding.implied_by.clear();
  for (std::size_t i = 0; i < n; ++i) {
    for (FindingIndex f : findings_[i].implies_closure) {
      findings_[f].implied_by.push_back(static_cast<FindingIndex>(i));
    }
  }
  return {};
}

std::optional<FindingIndex> FindingVocabulary::FindId(std::string_view id) const {
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  return std::nullopt;
}

std::optional<FindingIndex> FindingVocabulary::FindCode(std::string_view code) const {
  if (auto it = by_id_.find(code); it != by_id_.end()) return it->second;
  if (auto it = by_snomed_.find(code); it != by_snomed_.end()) return it->second;
  return std::nullopt;
}

std::optional<FindingIndex> FindingVocabulary::FindText(std::string_view text) const {
  auto term = NormaliseTerm(text);
  if (auto it = by_term_.find(term); it != by_term_.end()) return it->second;
  return std::nullopt;
}

std::optional<FindingIndex> FindingVocabulary::FindAny(std::string_view text) const {
  if (auto index = FindCode(text)) return index;
  return FindText(text);
}

FindingMention FindingVocabulary::Resolve(const FindingInput& input) const {
  FindingMention mention{input.text, std::nullopt, input.present};
  std::string_view text = Trim(input.text);
  if (!text.empty() && text.front() == '!') {
    if (auto rest = StripNegation(text)) mention.finding = FindAny(*rest);
    mention.present = !input.present;
    return mention;
  }
  if (auto index = FindAny(text)) {
    mention.finding = index;
    return mention;
  }
  if (auto rest = StripNegation(text)) {
    if (auto index = FindAny(*rest)) {
      mention.finding = index;
      mention.present = !input.present;
    }
  }
  return mention;
}

// ---- InvestigationCatalogue ----

Result<InvestigationIndex> InvestigationCatalogue::Add(Investigation investigation) {
  const auto index = static_cast<InvestigationIndex>(investigations_.size());
  if (auto it = by_code_.find(investigation.code); it != by_code_.end()) {
    return Fail(ErrorCode::kConflict, "duplicate investigation code '" + investigation.code +
                                          "' (first defined in " + investigations_[it->second].file + ")");
  }
  if (!investigation.snomed.empty()) {
    if (auto it = by_snomed_.find(investigation.snomed); it != by_snomed_.end()) {
      return Fail(ErrorCode::kConflict, "SNOMED id " + investigation.snomed +
                                            " is already used by investigation '" +
                                            investigations_[it->second].code + "'");
    }
  }
  auto name_of = [this](InvestigationIndex i) { return "investigation '" + investigations_[i].code + "'"; };
  std::vector<std::string> terms{NormaliseTerm(investigation.code), NormaliseTerm(investigation.name)};
  for (const auto& synonym : investigation.synonyms) terms.push_back(NormaliseTerm(synonym));
  for (const auto& term : terms) {
    if (auto r = AddTerm(by_term_, term, index, "name", name_of); !r) {
      for (const auto& t : terms) {
        if (auto it = by_term_.find(t); it != by_term_.end() && it->second == index) by_term_.erase(it);
      }
      return tl::unexpected(r.error());
    }
  }
  by_code_.emplace(investigation.code, index);
  if (!investigation.snomed.empty()) by_snomed_.emplace(investigation.snomed, index);
  investigations_.push_back(std::move(investigation));
  return index;
}

std::optional<InvestigationIndex> InvestigationCatalogue::FindCode(std::string_view code) const {
  if (auto it = by_code_.find(code); it != by_code_.end()) return it->second;
  return std::nullopt;
}

std::optional<InvestigationIndex> InvestigationCatalogue::Resolve(std::string_view text) const {
  text = Trim(text);
  if (auto it = by_code_.find(text); it != by_code_.end()) return it->second;
  if (auto it = by_snomed_.find(text); it != by_snomed_.end()) return it->second;
  if (auto it = by_term_.find(NormaliseTerm(text)); it != by_term_.end()) return it->second;
  return std::nullopt;
}

}  // namespace dx::cds
