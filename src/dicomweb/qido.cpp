#include "dicomweb/qido.hpp"

#include <fmt/format.h>

#include "dicom/dictionary.hpp"

namespace dx::dicomweb {
namespace {

namespace tags = dicom::tags;
using storage::QueryLevel;

constexpr std::size_t kMaxLimit = 10000;

const std::vector<dicom::Tag>& DefaultReturnKeys(QueryLevel level) {
  static const std::vector<dicom::Tag> study = {
      tags::kSpecificCharacterSet, tags::kStudyDate, tags::kStudyTime, tags::kAccessionNumber,
      tags::kInstanceAvailability, tags::kModalitiesInStudy, tags::kReferringPhysicianName, tags::kPatientName,
      tags::kPatientId, tags::kPatientBirthDate, tags::kPatientSex, tags::kStudyInstanceUid, tags::kStudyId,
      tags::kNumberOfStudyRelatedSeries, tags::kNumberOfStudyRelatedInstances, tags::kStudyDescription};
  static const std::vector<dicom::Tag> series = {tags::kSpecificCharacterSet, tags::kModality,
                                                 tags::kSeriesDescription,   tags::kSeriesNumber,
                                                 tags::kSeriesInstanceUid,   tags::kNumberOfSeriesRelatedInstances,
                                                 tags::kBodyPartExamined,    tags::kStudyInstanceUid};
  static const std::vector<dicom::Tag> instance = {
      tags::kSpecificCharacterSet, tags::kSopClassUid,   tags::kSopInstanceUid, tags::kInstanceAvailability,
      tags::kInstanceNumber,       tags::kRows,          tags::kColumns,        tags::kNumberOfFrames,
      tags::kStudyInstanceUid,     tags::kSeriesInstanceUid};
  switch (level) {
    case QueryLevel::kSeries: return series;
    case QueryLevel::kInstance: return instance;
    default: return study;
  }
}

const std::vector<dicom::Tag>& AllReturnKeys() {
  static const std::vector<dicom::Tag> all = {
      tags::kPatientName, tags::kPatientId, tags::kIssuerOfPatientId, tags::kPatientBirthDate, tags::kPatientSex,
      tags::kStudyDescription, tags::kSeriesDescription, tags::kBodyPartExamined, tags::kNumberOfPatientRelatedStudies,
      tags::kRetrieveAeTitle};
  return all;
}

Result<std::size_t> ParseCount(const std::string& name, const std::string& value, std::size_t max) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("query parameter {}='{}' is not a non-negative integer", name, value));
  }
  const std::size_t number = std::stoul(value);
  if (number > max) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("query parameter {}={} exceeds the maximum of {}", name, number, max));
  }
  return number;
}

void AddReturnKey(dicom::Attributes& identifier, dicom::Tag tag) {
  if (!identifier.Has(tag)) identifier.Set(tag, dicom::VrOf(tag), "");
}

}  // namespace

Result<QidoRequest> ParseQido(QueryLevel level, const std::multimap<std::string, std::string>& query,
                              const std::map<dicom::Tag, std::string>& path_uids) {
  QidoRequest request;
  request.level = level;
  auto& identifier = request.identifier;
  identifier.Set(tags::kQueryRetrieveLevel, "CS",
                 level == QueryLevel::kStudy ? "STUDY" : level == QueryLevel::kSeries ? "SERIES" : "IMAGE");
  for (const auto& [tag, uid] : path_uids) identifier.Set(tag, "UI", uid);
  for (const auto& [name, value] : query) {
    if (name == "limit") {
      auto limit = ParseCount(name, value, kMaxLimit);
      if (!limit) return tl::unexpected(limit.error());
      request.limit = *limit;
    } else if (name == "offset") {
      auto offset = ParseCount(name, value, 1u << 30);
      if (!offset) return tl::unexpected(offset.error());
      request.offset = *offset;
    } else if (name == "fuzzymatching") {
      if (value != "true" && value != "false") {
        return Fail(ErrorCode::kInvalidInput, fmt::format("fuzzymatching='{}' is not true or false", value));
      }
      request.fuzzy_requested = value == "true";
    } else if (name == "includefield") {
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        const std::string field = value.substr(start, comma - start);
        start = comma + 1;
        if (field.empty()) continue;
        if (field == "all") {
          for (dicom::Tag tag : AllReturnKeys()) AddReturnKey(identifier, tag);
          continue;
        }
        auto info = dicom::LookupAttribute(field);
        if (!info) return Fail(ErrorCode::kInvalidInput, fmt::format("includefield names unknown attribute '{}'", field));
        AddReturnKey(identifier, info->tag);
      }
    } else {
      auto info = dicom::LookupAttribute(name);
      if (!info) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("unknown query parameter or attribute '{}'", name));
      }
      if (info->vr == "SQ") {
        return Fail(ErrorCode::kInvalidInput, fmt::format("matching on sequence attribute '{}' is not supported", name));
      }
      if (path_uids.count(info->tag) && path_uids.at(info->tag) != value) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' contradicts the UID in the path", name));
      }
      identifier.Set(info->tag, info->vr, value);
    }
  }
  for (dicom::Tag tag : DefaultReturnKeys(level)) AddReturnKey(identifier, tag);
  return request;
}

}  // namespace dx::dicomweb
