// The DICOM data dictionary (PS3.6) as DCMTK ships it: keyword ↔ tag, and the
// VR of a tag. Lookups are read-only and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dicom/attributes.hpp"

namespace dx::dicom {

struct TagInfo {
  Tag tag;
  std::string vr;       // "PN", "UI"...; "UN" for tags the dictionary lacks
  std::string keyword;  // "PatientName"; empty for tags the dictionary lacks
};

// A keyword ("PatientName") or eight hex digits ("00100010"), as QIDO-RS and
// WADO-RS parameters name attributes (PS3.18 §8.3.4); nullopt when neither.
std::optional<TagInfo> LookupAttribute(std::string_view keyword_or_tag);

// The dictionary VR of `tag` ("UN" when unknown).
std::string VrOf(Tag tag);

}  // namespace dx::dicom
