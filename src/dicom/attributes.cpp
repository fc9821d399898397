#include "dicom/attributes.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace dx::dicom {

std::string ToString(Tag tag) { return fmt::format("{:04X},{:04X}", tag.group, tag.element); }

std::vector<std::string> SplitValues(std::string_view value) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find('\\', start);
    if (end == std::string_view::npos) end = value.size();
    parts.emplace_back(value.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

namespace {

// The first element whose tag is not below `tag` (elements are kept in tag order).
template <typename Elements>
auto Position(Elements& elements, Tag tag) {
  return std::lower_bound(elements.begin(), elements.end(), tag, [](const Element& e, Tag t) { return e.tag < t; });
}

}  // namespace

std::optional<std::string> Attributes::Find(Tag tag) const {
  auto it = Position(elements_, tag);
  if (it == elements_.end() || !(it->tag == tag)) return std::nullopt;
  return it->value;
}

void Attributes::Set(Tag tag, std::string_view vr, std::string value) {
  auto it = Position(elements_, tag);
  if (it != elements_.end() && it->tag == tag) {
    it->vr = std::string(vr);
    it->value = std::move(value);
    it->items.clear();
    return;
  }
  elements_.insert(it, Element{tag, std::string(vr), std::move(value), {}});
}

void Attributes::SetSequence(Tag tag, std::vector<Attributes> items) {
  Set(tag, "SQ", "");
  auto it = Position(elements_, tag);
  it->items = std::move(items);
}

const std::vector<Attributes>* Attributes::Items(Tag tag) const {
  auto it = Position(elements_, tag);
  if (it == elements_.end() || !(it->tag == tag) || it->vr != "SQ") return nullptr;
  return &it->items;
}

void Attributes::Erase(Tag tag) {
  auto it = Position(elements_, tag);
  if (it != elements_.end() && it->tag == tag) elements_.erase(it);
}

}  // namespace dx::dicom
