#include "cds/model.hpp"

#include <array>
#include <utility>

namespace dx::cds {
namespace {

template <typename E, std::size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<FindingKind, 5> kFindingKinds{{
    {FindingKind::kSymptom, "symptom"},
    {FindingKind::kSign, "sign"},
    {FindingKind::kHistory, "history"},
    {FindingKind::kTestResult, "test-result"},
    {FindingKind::kDemographic, "demographic"},
}};

constexpr Names<Modality, 15> kModalities{{
    {Modality::kXRay, "XR"},
    {Modality::kMammography, "MG"},
    {Modality::kFluoroscopy, "FL"},
    {Modality::kCt, "CT"},
    {Modality::kMr, "MR"},
    {Modality::kUltrasound, "US"},
    {Modality::kNuclearMedicine, "NM"},
    {Modality::kPet, "PET"},
    {Modality::kDxa, "DXA"},
    {Modality::kEcho, "ECHO"},
    {Modality::kEndoscopy, "ENDO"},
    {Modality::kLab, "LAB"},
    {Modality::kPhysiology, "PHYS"},
    {Modality::kReferral, "REFERRAL"},
    {Modality::kNone, "NONE"},
}};

constexpr Names<DoseBand, 5> kDoseBands{{
    {DoseBand::k0, "0"},
    {DoseBand::kI, "I"},
    {DoseBand::kII, "II"},
    {DoseBand::kIII, "III"},
    {DoseBand::kIV, "IV"},
}};

constexpr Names<Urgency, 6> kUrgencies{{
    {Urgency::kImmediate, "immediate"},
    {Urgency::kWithin24Hours, "within-24-hours"},
    {Urgency::kWithin48Hours, "within-48-hours"},
    {Urgency::kWithin2Weeks, "within-2-weeks"},
    {Urgency::kRoutine, "routine"},
    {Urgency::kNone, "none"},
}};

constexpr Names<RuleSex, 3> kRuleSexes{{
    {RuleSex::kAny, "any"},
    {RuleSex::kFemale, "female"},
    {RuleSex::kMale, "male"},
}};

constexpr Names<PatientSex, 3> kPatientSexes{{
    {PatientSex::kUnknown, "unknown"},
    {PatientSex::kFemale, "female"},
    {PatientSex::kMale, "male"},
}};

constexpr Names<ScoreBand, 3> kScoreBands{{
    {ScoreBand::kUsuallyAppropriate, "usually-appropriate"},
    {ScoreBand::kMayBeAppropriate, "may-be-appropriate"},
    {ScoreBand::kUsuallyNotAppropriate, "usually-not-appropriate"},
}};

constexpr Names<Verdict, 4> kVerdicts{{
    {Verdict::kAppropriate, "appropriate"},
    {Verdict::kMayBeAppropriate, "may-be-appropriate"},
    {Verdict::kNotAppropriate, "not-appropriate"},
    {Verdict::kNoGuidance, "no-guidance"},
}};

constexpr Names<CriterionGroup, 5> kGroups{{
    {CriterionGroup::kAllOf, "all_of"},
    {CriterionGroup::kAnyOf, "any_of"},
    {CriterionGroup::kRedFlags, "red_flags"},
    {CriterionGroup::kHistory, "history"},
    {CriterionGroup::kHistoryAny, "history_any"},
}};

template <typename E, std::size_t N>
std::string_view NameOf(const Names<E, N>& names, E value) {
  for (const auto& [e, name] : names) {
    if (e == value) return name;
  }
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> ValueOf(const Names<E, N>& names, std::string_view text) {
  for (const auto& [e, name] : names) {
    if (name == text) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(FindingKind kind) { return NameOf(kFindingKinds, kind); }
std::string_view ToString(Modality modality) { return NameOf(kModalities, modality); }
std::string_view ToString(DoseBand band) { return NameOf(kDoseBands, band); }
std::string_view ToString(Urgency urgency) { return NameOf(kUrgencies, urgency); }
std::string_view ToString(RuleSex sex) { return NameOf(kRuleSexes, sex); }
std::string_view ToString(PatientSex sex) { return NameOf(kPatientSexes, sex); }
std::string_view ToString(ScoreBand band) { return NameOf(kScoreBands, band); }
std::string_view ToString(Verdict verdict) { return NameOf(kVerdicts, verdict); }
std::string_view ToString(CriterionGroup group) { return NameOf(kGroups, group); }

std::optional<FindingKind> ParseFindingKind(std::string_view text) { return ValueOf(kFindingKinds, text); }
std::optional<Modality> ParseModality(std::string_view text) { return ValueOf(kModalities, text); }
std::optional<DoseBand> ParseDoseBand(std::string_view text) { return ValueOf(kDoseBands, text); }
std::optional<Urgency> ParseUrgency(std::string_view text) { return ValueOf(kUrgencies, text); }
std::optional<RuleSex> ParseRuleSex(std::string_view text) { return ValueOf(kRuleSexes, text); }
std::optional<PatientSex> ParsePatientSex(std::string_view text) { return ValueOf(kPatientSexes, text); }
std::optional<Verdict> ParseVerdict(std::string_view text) { return ValueOf(kVerdicts, text); }

DoseBand DoseBandFor(double dose_msv) {
  if (dose_msv <= 0.0) return DoseBand::k0;
  if (dose_msv < 1.0) return DoseBand::kI;
  if (dose_msv < 5.0) return DoseBand::kII;
  if (dose_msv < 10.0) return DoseBand::kIII;
  return DoseBand::kIV;
}

ScoreBand ScoreBandFor(int score) {
  if (score >= 7) return ScoreBand::kUsuallyAppropriate;
  if (score >= 4) return ScoreBand::kMayBeAppropriate;
  return ScoreBand::kUsuallyNotAppropriate;
}

Verdict VerdictFor(ScoreBand band) {
  switch (band) {
    case ScoreBand::kUsuallyAppropriate: return Verdict::kAppropriate;
    case ScoreBand::kMayBeAppropriate: return Verdict::kMayBeAppropriate;
    case ScoreBand::kUsuallyNotAppropriate: return Verdict::kNotAppropriate;
  }
  return Verdict::kNoGuidance;
}

bool IsIonising(Modality modality) {
  switch (modality) {
    case Modality::kXRay:
    case Modality::kMammography:
    case Modality::kFluoroscopy:
    case Modality::kCt:
    case Modality::kNuclearMedicine:
    case Modality::kPet:
    case Modality::kDxa:
      return true;
    default:
      return false;
  }
}

}  // namespace dx::cds
