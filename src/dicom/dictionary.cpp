#include "dicom/dictionary.hpp"

#include <cctype>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>

namespace dx::dicom {
namespace {

std::optional<Tag> ParseHexTag(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(c))
                                                        ? c - '0'
                                                        : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return Tag{static_cast<std::uint16_t>(value >> 16), static_cast<std::uint16_t>(value & 0xFFFF)};
}

}  // namespace

std::optional<TagInfo> LookupAttribute(std::string_view keyword_or_tag) {
  const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
  std::optional<TagInfo> info;
  if (auto tag = ParseHexTag(keyword_or_tag)) {
    const DcmDictEntry* entry = dictionary.findEntry(DcmTagKey(tag->group, tag->element), nullptr);
    info = TagInfo{*tag, entry ? entry->getVR().getVRName() : "UN", entry ? entry->getTagName() : ""};
  } else if (!keyword_or_tag.empty()) {
    const std::string keyword(keyword_or_tag);
    const DcmDictEntry* entry = dictionary.findEntry(keyword.c_str());
    if (entry) info = TagInfo{Tag{entry->getGroup(), entry->getElement()}, entry->getVR().getVRName(), keyword};
  }
  dcmDataDict.rdunlock();
  return info;
}

std::string VrOf(Tag tag) {
  const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
  const DcmDictEntry* entry = dictionary.findEntry(DcmTagKey(tag.group, tag.element), nullptr);
  std::string vr = entry ? entry->getVR().getVRName() : "UN";
  dcmDataDict.rdunlock();
  return vr;
}

}  // namespace dx::dicom
