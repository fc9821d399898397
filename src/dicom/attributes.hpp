// A DCMTK-free view of the attributes of a data set: what the services above
// dicom/ need for query identifiers, indexing, worklist items and procedure
// steps. A sequence is an element of VR SQ whose items are nested Attributes.
// A value type; not synchronised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dx::dicom {

struct Tag {
  std::uint16_t group = 0;
  std::uint16_t element = 0;
  constexpr std::uint32_t Key() const { return (std::uint32_t(group) << 16) | element; }
  friend constexpr bool operator==(Tag a, Tag b) { return a.Key() == b.Key(); }
  friend constexpr bool operator<(Tag a, Tag b) { return a.Key() < b.Key(); }
};

std::string ToString(Tag tag);  // "0010,0020"

// The values of a multi-valued string ("CT\\MR" → {"CT", "MR"}); one empty value for "".
std::vector<std::string> SplitValues(std::string_view value);

class Attributes;

struct Element {
  Tag tag;
  std::string vr;     // two letters, e.g. "PN"
  std::string value;  // string form, multiple values joined by '\'; "" for a sequence
  std::vector<Attributes> items;  // a sequence's items (VR SQ)
};

class Attributes {
 public:
  // The value of `tag`, or nullopt when absent (present but empty gives "").
  std::optional<std::string> Find(Tag tag) const;
  std::string Get(Tag tag) const { return Find(tag).value_or(""); }
  bool Has(Tag tag) const { return Find(tag).has_value(); }
  // Sets or replaces; keeps elements in tag order.
  void Set(Tag tag, std::string_view vr, std::string value);
  void Erase(Tag tag);
  // Sets or replaces a sequence (VR SQ) with `items`.
  void SetSequence(Tag tag, std::vector<Attributes> items);
  // The items of sequence `tag`; nullptr when absent (present but empty gives an empty vector).
  const std::vector<Attributes>* Items(Tag tag) const;
  const std::vector<Element>& elements() const { return elements_; }

 private:
  std::vector<Element> elements_;
};

// Tags used by the archive (PS3.6).
namespace tags {
inline constexpr Tag kSpecificCharacterSet{0x0008, 0x0005};
inline constexpr Tag kSopClassUid{0x0008, 0x0016};
inline constexpr Tag kSopInstanceUid{0x0008, 0x0018};
inline constexpr Tag kStudyDate{0x0008, 0x0020};
inline constexpr Tag kStudyTime{0x0008, 0x0030};
inline constexpr Tag kAccessionNumber{0x0008, 0x0050};
inline constexpr Tag kQueryRetrieveLevel{0x0008, 0x0052};
inline constexpr Tag kRetrieveAeTitle{0x0008, 0x0054};
inline constexpr Tag kInstanceAvailability{0x0008, 0x0056};
inline constexpr Tag kModalitiesInStudy{0x0008, 0x0061};
inline constexpr Tag kModality{0x0008, 0x0060};
inline constexpr Tag kReferringPhysicianName{0x0008, 0x0090};
inline constexpr Tag kStudyDescription{0x0008, 0x1030};
inline constexpr Tag kSeriesDescription{0x0008, 0x103E};
inline constexpr Tag kPatientName{0x0010, 0x0010};
inline constexpr Tag kPatientId{0x0010, 0x0020};
inline constexpr Tag kIssuerOfPatientId{0x0010, 0x0021};
inline constexpr Tag kPatientBirthDate{0x0010, 0x0030};
inline constexpr Tag kPatientSex{0x0010, 0x0040};
inline constexpr Tag kOtherPatientIds{0x0010, 0x1000};
inline constexpr Tag kOtherPatientIdsSequence{0x0010, 0x1002};
inline constexpr Tag kBodyPartExamined{0x0018, 0x0015};
inline constexpr Tag kStudyInstanceUid{0x0020, 0x000D};
inline constexpr Tag kSeriesInstanceUid{0x0020, 0x000E};
inline constexpr Tag kStudyId{0x0020, 0x0010};
inline constexpr Tag kSeriesNumber{0x0020, 0x0011};
inline constexpr Tag kInstanceNumber{0x0020, 0x0013};
inline constexpr Tag kNumberOfPatientRelatedStudies{0x0020, 0x1200};
inline constexpr Tag kNumberOfPatientRelatedSeries{0x0020, 0x1202};
inline constexpr Tag kNumberOfPatientRelatedInstances{0x0020, 0x1204};
inline constexpr Tag kNumberOfStudyRelatedSeries{0x0020, 0x1206};
inline constexpr Tag kNumberOfStudyRelatedInstances{0x0020, 0x1208};
inline constexpr Tag kNumberOfSeriesRelatedInstances{0x0020, 0x1209};
inline constexpr Tag kNumberOfFrames{0x0028, 0x0008};
inline constexpr Tag kRows{0x0028, 0x0010};
inline constexpr Tag kColumns{0x0028, 0x0011};
}  // namespace tags

}  // namespace dx::dicom
