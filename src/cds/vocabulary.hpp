// Vocabularies of the knowledge base: findings (symptoms, signs, history, results)
// and investigations, each looked up by code, SNOMED CT id or free text with
// synonyms, case- and punctuation-insensitively. Built once by the loader, then
// read-only: concurrent lookups are safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cds/model.hpp"
#include "core/error.hpp"

namespace dx::cds {

// Lower-cases ASCII, turns every run of characters other than letters and digits
// into one space and trims: "Weight-loss!" -> "weight loss". Non-ASCII bytes are
// kept as they are (lower-casing is ASCII only).
std::string NormaliseTerm(std::string_view text);

// Strips an explicit negation from an input entry: a leading "!" or one of the
// phrases "no", "not", "denies", "without", "negative for" (whole words,
// any case). Returns the remainder, or nullopt when the entry is not negated.
std::optional<std::string_view> StripNegation(std::string_view text);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// How one input entry resolved against the findings vocabulary.
struct FindingMention {
  std::string input;                   // as given
  std::optional<FindingIndex> finding; // nullopt: unknown
  bool present = true;                 // false: explicit absence
};

class FindingVocabulary {
 public:
  // Adds a finding; fails (message without file prefix) on a duplicate id or
  // SNOMED id, or a normalised label/synonym already used by another finding.
  Result<FindingIndex> Add(Finding finding);
  // Resolves every finding's implies list and computes implies_closure and
  // implied_by. Fails naming the finding on an unknown id or a cycle.
  Result<void> Finalise();

  std::size_t size() const { return findings_.size(); }
  const Finding& at(FindingIndex index) const { return findings_[index]; }
  const std::vector<Finding>& all() const { return findings_; }

  // Exact internal id only ("weight_loss").
  std::optional<FindingIndex> FindId(std::string_view id) const;
  // Internal id or SNOMED CT id, exact.
  std::optional<FindingIndex> FindCode(std::string_view code) const;
  // Normalised id, label or synonym.
  std::optional<FindingIndex> FindText(std::string_view text) const;
  // Coded first, then free text; if neither matches and the entry is negated
  // ("no weight loss", "!weight_loss"), the remainder is resolved as an absence.
  // input.present = false inverts the result (absence of the named finding).
  FindingMention Resolve(const FindingInput& input) const;

 private:
  std::optional<FindingIndex> FindAny(std::string_view text) const;

  std::vector<Finding> findings_;
  StringMap<FindingIndex> by_id_;
  StringMap<FindingIndex> by_snomed_;
  StringMap<FindingIndex> by_term_;
};

class InvestigationCatalogue {
 public:
  // Fails on a duplicate code or SNOMED id or a clash of normalised names/synonyms.
  Result<InvestigationIndex> Add(Investigation investigation);

  std::size_t size() const { return investigations_.size(); }
  const Investigation& at(InvestigationIndex index) const { return investigations_[index]; }
  const std::vector<Investigation>& all() const { return investigations_; }

  // Exact code only ("XR-CHEST").
  std::optional<InvestigationIndex> FindCode(std::string_view code) const;
  // Code, SNOMED CT id, or normalised code/name/synonym ("chest x-ray", "CXR").
  std::optional<InvestigationIndex> Resolve(std::string_view text) const;

 private:
  std::vector<Investigation> investigations_;
  StringMap<InvestigationIndex> by_code_;
  StringMap<InvestigationIndex> by_snomed_;
  StringMap<InvestigationIndex> by_term_;
};

}  // namespace dx::cds
