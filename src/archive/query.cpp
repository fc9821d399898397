#include "archive/query.hpp"

#include <fmt/format.h>

namespace dx::archive {
namespace {

using storage::InstanceRecord;
using storage::Match;
using storage::QueryLevel;
namespace tags = dicom::tags;

enum class Matching { kText, kName, kUid, kDate, kTime, kCodeList };

struct Key {
  dicom::Tag tag;
  const char* column;
  QueryLevel level;
  Matching matching;
  std::string InstanceRecord::*field;  // nullptr for computed keys
};

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      {tags::kPatientName, "patient_name", QueryLevel::kPatient, Matching::kName, &InstanceRecord::patient_name},
      {tags::kPatientId, "patient_id", QueryLevel::kPatient, Matching::kText, &InstanceRecord::patient_id},
      {tags::kIssuerOfPatientId, "issuer_of_patient_id", QueryLevel::kPatient, Matching::kText,
       &InstanceRecord::issuer_of_patient_id},
      {tags::kPatientBirthDate, "patient_birth_date", QueryLevel::kPatient, Matching::kDate,
       &InstanceRecord::patient_birth_date},
      {tags::kPatientSex, "patient_sex", QueryLevel::kPatient, Matching::kText, &InstanceRecord::patient_sex},
      {tags::kStudyInstanceUid, "study_instance_uid", QueryLevel::kStudy, Matching::kUid,
       &InstanceRecord::study_instance_uid},
      {tags::kStudyDate, "study_date", QueryLevel::kStudy, Matching::kDate, &InstanceRecord::study_date},
      {tags::kStudyTime, "study_time", QueryLevel::kStudy, Matching::kTime, &InstanceRecord::study_time},
      {tags::kAccessionNumber, "accession_number", QueryLevel::kStudy, Matching::kText,
       &InstanceRecord::accession_number},
      {tags::kStudyId, "study_id", QueryLevel::kStudy, Matching::kText, &InstanceRecord::study_id},
      {tags::kStudyDescription, "study_description", QueryLevel::kStudy, Matching::kText,
       &InstanceRecord::study_description},
      {tags::kReferringPhysicianName, "referring_physician_name", QueryLevel::kStudy, Matching::kName,
       &InstanceRecord::referring_physician_name},
      {tags::kModalitiesInStudy, "modalities_in_study", QueryLevel::kStudy, Matching::kCodeList, nullptr},
      {tags::kSeriesInstanceUid, "series_instance_uid", QueryLevel::kSeries, Matching::kUid,
       &InstanceRecord::series_instance_uid},
      {tags::kModality, "modality", QueryLevel::kSeries, Matching::kText, &InstanceRecord::modality},
      {tags::kSeriesNumber, "series_number", QueryLevel::kSeries, Matching::kText, &InstanceRecord::series_number},
      {tags::kSeriesDescription, "series_description", QueryLevel::kSeries, Matching::kText,
       &InstanceRecord::series_description},
      {tags::kBodyPartExamined, "body_part_examined", QueryLevel::kSeries, Matching::kText,
       &InstanceRecord::body_part_examined},
      {tags::kSopInstanceUid, "sop_instance_uid", QueryLevel::kInstance, Matching::kUid,
       &InstanceRecord::sop_instance_uid},
      {tags::kSopClassUid, "sop_class_uid", QueryLevel::kInstance, Matching::kUid, &InstanceRecord::sop_class_uid},
      {tags::kInstanceNumber, "instance_number", QueryLevel::kInstance, Matching::kText,
       &InstanceRecord::instance_number},
  };
  return keys;
}

const Key* KeyFor(dicom::Tag tag) {
  for (const auto& key : Keys()) {
    if (key.tag == tag) return &key;
  }
  return nullptr;
}

bool AllDigits(const std::string& text) {
  for (char c : text) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

// The words of a name for fuzzy matching: split at component and group
// delimiters, spaces and commas, upper-cased (ASCII), wildcards dropped.
std::vector<std::string> NameWords(const std::string& value) {
  std::vector<std::string> words;
  std::string word;
  for (char c : value) {
    if (c == '^' || c == '=' || c == ' ' || c == ',' || c == '*' || c == '?') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

Result<Match> MatchFor(const Key& key, const std::string& value, bool fuzzy_names) {
  Match match;
  match.column = key.column;
  if (key.matching == Matching::kName && fuzzy_names && value.find('\\') == std::string::npos) {
    match.kind = Match::Kind::kFuzzyName;
    match.values = NameWords(value);
    return match;
  }
  switch (key.matching) {
    case Matching::kUid: {
      auto uids = dicom::SplitValues(value);
      match.kind = uids.size() > 1 ? Match::Kind::kList : Match::Kind::kSingleValue;
      match.values = std::move(uids);
      return match;
    }
    case Matching::kDate:
    case Matching::kTime: {
      const auto dash = value.find('-');
      if (dash == std::string::npos) {
        if (!AllDigits(value)) {
          return Fail(ErrorCode::kInvalidInput, fmt::format("{} ({}) is not a valid {}: '{}'", key.column,
                                                            ToString(key.tag),
                                                            key.matching == Matching::kDate ? "date" : "time", value));
        }
        match.kind = Match::Kind::kSingleValue;
        match.values = {value};
      } else {
        match.kind = Match::Kind::kRange;
        match.values = {value.substr(0, dash), value.substr(dash + 1)};
        if (match.values[1].find('-') != std::string::npos || !AllDigits(match.values[0]) ||
            !AllDigits(match.values[1]) || (match.values[0].empty() && match.values[1].empty())) {
          return Fail(ErrorCode::kInvalidInput,
                      fmt::format("{} ({}) is not a valid range: '{}'", key.column, ToString(key.tag), value));
        }
      }
      return match;
    }
    case Matching::kCodeList:
      match.kind = Match::Kind::kList;
      match.values = dicom::SplitValues(value);
      return match;
    case Matching::kName:
    case Matching::kText:
      if (value.find_first_of("*?") != std::string::npos) {
        match.kind = Match::Kind::kWildcard;
      } else if (value.find('\\') != std::string::npos) {
        match.kind = Match::Kind::kList;
        match.values = dicom::SplitValues(value);
        return match;
      }
      match.values = {value};
      return match;
  }
  return match;
}

}  // namespace

Result<storage::Query> QueryFromIdentifier(const dicom::Attributes& identifier, bool patient_root,
                                           bool fuzzy_names) {
  const std::string level_text = identifier.Get(tags::kQueryRetrieveLevel);
  storage::Query query;
  if (level_text == "PATIENT") {
    query.level = QueryLevel::kPatient;
  } else if (level_text == "STUDY") {
    query.level = QueryLevel::kStudy;
  } else if (level_text == "SERIES") {
    query.level = QueryLevel::kSeries;
  } else if (level_text == "IMAGE") {
    query.level = QueryLevel::kInstance;
  } else {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("QueryRetrieveLevel (0008,0052) is '{}', not PATIENT, STUDY, SERIES or IMAGE", level_text));
  }
  if (!patient_root && query.level == QueryLevel::kPatient) {
    return Fail(ErrorCode::kInvalidInput, "the Study Root model has no PATIENT level");
  }
  for (const auto& element : identifier.elements()) {
    const Key* key = KeyFor(element.tag);
    if (!key || key->level > query.level) continue;  // return key only, or below the level
    const std::string& value = element.value;
    if (value.empty() || value == "*") continue;       // universal matching
    auto match = MatchFor(*key, value, fuzzy_names);
    if (match && match->kind == Match::Kind::kFuzzyName && match->values.empty()) continue;  // only wildcards
    if (!match) return tl::unexpected(match.error());
    query.matches.push_back(std::move(*match));
  }
  return query;
}

dicom::Attributes ResponseFor(const dicom::Attributes& identifier, QueryLevel level, const storage::QueryRow& row,
                              const std::string& retrieve_ae_title) {
  dicom::Attributes response;
  for (const auto& element : identifier.elements()) {
    const dicom::Tag tag = element.tag;
    std::string value;
    if (const Key* key = KeyFor(tag); key && key->field && key->level <= level) {
      value = row.attributes.*(key->field);
    } else if (tag == tags::kModalitiesInStudy && level != QueryLevel::kPatient) {
      value = row.modalities_in_study;
    } else if (tag == tags::kQueryRetrieveLevel) {
      value = element.value;
    } else if (tag == tags::kRetrieveAeTitle) {
      value = retrieve_ae_title;
    } else if (tag == tags::kInstanceAvailability) {
      value = "ONLINE";
    } else if (tag == tags::kSpecificCharacterSet) {
      value = element.value;
    } else if (tag == tags::kNumberOfPatientRelatedStudies) {
      value = std::to_string(row.patient_related_studies);
    } else if (tag == tags::kNumberOfPatientRelatedSeries) {
      value = std::to_string(row.patient_related_series);
    } else if (tag == tags::kNumberOfPatientRelatedInstances) {
      value = std::to_string(row.patient_related_instances);
    } else if (tag == tags::kNumberOfStudyRelatedSeries && level >= QueryLevel::kStudy) {
      value = std::to_string(row.study_related_series);
    } else if (tag == tags::kNumberOfStudyRelatedInstances && level >= QueryLevel::kStudy) {
      value = std::to_string(row.study_related_instances);
    } else if (tag == tags::kNumberOfSeriesRelatedInstances && level >= QueryLevel::kSeries) {
      value = std::to_string(row.series_related_instances);
    } else if (tag == tags::kNumberOfFrames && level == QueryLevel::kInstance) {
      value = std::to_string(row.attributes.number_of_frames);
    } else if (tag == tags::kRows && level == QueryLevel::kInstance && row.attributes.rows > 0) {
      value = std::to_string(row.attributes.rows);
    } else if (tag == tags::kColumns && level == QueryLevel::kInstance && row.attributes.columns > 0) {
      value = std::to_string(row.attributes.columns);
    }
    response.Set(tag, element.vr, std::move(value));
  }
  return response;
}

}  // namespace dx::archive
