// Decision-support data model: findings, investigations, rules and topics as loaded
// from knowledge/ (format in knowledge/SCHEMA.md), plus the Case an evaluation takes.
// Plain values; a loaded KnowledgeBase is immutable and safe to share between threads.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dx::cds {

// Dense index of a finding in the vocabulary; rules refer to findings by index so
// evaluation works on bit sets rather than strings.
using FindingIndex = std::uint32_t;
using InvestigationIndex = std::uint32_t;

enum class FindingKind { kSymptom, kSign, kHistory, kTestResult, kDemographic };

// Investigation modality. kPhysiology: nerve conduction, ABPI, ECG. kReferral: a
// pathway referral where the specialist chooses the test. kNone: "no investigation".
enum class Modality {
  kXRay, kMammography, kFluoroscopy, kCt, kMr, kUltrasound, kNuclearMedicine, kPet,
  kDxa, kEcho, kEndoscopy, kLab, kPhysiology, kReferral, kNone,
};

// RCR iRefer / EC RP118 effective-dose classes: 0 = none, I < 1 mSv, II 1–5,
// III 5–10, IV >= 10.
enum class DoseBand { k0, kI, kII, kIII, kIV };

// Declared most urgent first; the order is the ranking order.
enum class Urgency { kImmediate, kWithin24Hours, kWithin48Hours, kWithin2Weeks, kRoutine, kNone };

enum class RuleSex { kAny, kFemale, kMale };
enum class PatientSex { kUnknown, kFemale, kMale };

// Appropriateness bands of the 1–9 score: 7–9, 4–6, 1–3.
enum class ScoreBand { kUsuallyAppropriate, kMayBeAppropriate, kUsuallyNotAppropriate };

enum class Verdict { kAppropriate, kMayBeAppropriate, kNotAppropriate, kNoGuidance };

// The criterion group of a rule a finding satisfied (or failed).
enum class CriterionGroup { kAllOf, kAnyOf, kRedFlags, kHistory, kHistoryAny };

// String forms are the ones used in knowledge files and JSON ("within-2-weeks").
std::string_view ToString(FindingKind kind);
std::string_view ToString(Modality modality);
std::string_view ToString(DoseBand band);
std::string_view ToString(Urgency urgency);
std::string_view ToString(RuleSex sex);
std::string_view ToString(PatientSex sex);
std::string_view ToString(ScoreBand band);
std::string_view ToString(Verdict verdict);
std::string_view ToString(CriterionGroup group);

std::optional<FindingKind> ParseFindingKind(std::string_view text);
std::optional<Modality> ParseModality(std::string_view text);
std::optional<DoseBand> ParseDoseBand(std::string_view text);
std::optional<Urgency> ParseUrgency(std::string_view text);
std::optional<RuleSex> ParseRuleSex(std::string_view text);
std::optional<PatientSex> ParsePatientSex(std::string_view text);
std::optional<Verdict> ParseVerdict(std::string_view text);

// Band of a typical effective dose in mSv (negative doses are a caller bug).
DoseBand DoseBandFor(double dose_msv);
// Band of an appropriateness score 1–9.
ScoreBand ScoreBandFor(int score);
// The verdict a recommending rule's score gives a requested test.
Verdict VerdictFor(ScoreBand band);
// True for modalities that use ionising radiation (a dose is required).
bool IsIonising(Modality modality);

struct Finding {
  std::string id;
  std::string label;
  FindingKind kind = FindingKind::kSymptom;
  std::string snomed;  // empty when there is no SNOMED CT concept
  std::vector<std::string> synonyms;
  std::string question;  // empty: the label is used
  std::vector<std::string> implies;
  std::string file;  // knowledge-relative path it was defined in
  // Filled at load: transitive closure of implies (excluding itself), and the
  // findings whose presence implies this one.
  std::vector<FindingIndex> implies_closure;
  std::vector<FindingIndex> implied_by;
};

struct Investigation {
  std::string code;
  std::string name;
  Modality modality = Modality::kNone;
  std::string region;
  bool contrast = false;
  std::string snomed;
  double dose_msv = 0.0;
  DoseBand dose_band = DoseBand::k0;
  std::vector<std::string> synonyms;
  std::string file;
};

struct Source {
  std::string guideline;
  std::string recommendation;
  std::string edition;
  std::string url;
};

struct RecommendItem {
  InvestigationIndex investigation = 0;
  std::string note;
  int score = 0;  // the rule's score unless the item overrides it
};

struct AdviseAgainst {
  InvestigationIndex investigation = 0;
  std::string reason;
};

struct Rule {
  std::string id;
  int version = 1;
  std::string title;
  std::string topic;
  std::string file;
  double age_min = 0.0;                                         // inclusive
  double age_max = std::numeric_limits<double>::infinity();     // inclusive
  double age_below = std::numeric_limits<double>::infinity();   // exclusive
  RuleSex sex = RuleSex::kAny;
  std::vector<FindingIndex> all_of;
  std::vector<FindingIndex> any_of;
  int any_of_min = 1;
  std::vector<FindingIndex> red_flags;
  std::vector<FindingIndex> history;
  std::vector<FindingIndex> history_any;
  std::vector<FindingIndex> none_of;
  std::vector<RecommendItem> recommend;
  Urgency urgency = Urgency::kRoutine;
  std::vector<AdviseAgainst> advise_against;
  int score = 0;
  Source source;
  std::string rationale;
  std::vector<FindingIndex> asks;
};

struct Topic {
  std::string id;
  std::string title;
  std::vector<std::string> guidelines;
  std::string summary;
  std::string reviewed;
  std::string file;
  std::vector<std::size_t> rules;  // indexes into KnowledgeBase rules
};

// One finding as given by the requester: an id, a SNOMED CT id or free text.
// present = false is an explicit absence ("no weight loss"); a leading "!" or a
// negation phrase in text also marks absence (see knowledge/SCHEMA.md §4).
struct FindingInput {
  std::string text;
  bool present = true;
};

// A patient presentation to evaluate. age is in years (a fraction for infants).
struct Case {
  std::optional<double> age;
  PatientSex sex = PatientSex::kUnknown;
  std::vector<FindingInput> findings;
  std::vector<FindingInput> history;
  std::optional<std::string> requested;  // investigation code, SNOMED id, name or synonym
};

}  // namespace dx::cds
