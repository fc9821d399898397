#include "orders/catalogue.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace dx::orders {
namespace {

// The DICOM modality (PS3.3 C.7.3.1.1.1 defined terms) a catalogue modality is performed on.
std::string DicomModality(cds::Modality modality) {
  switch (modality) {
    case cds::Modality::kXRay: return "DX";
    case cds::Modality::kMammography: return "MG";
    case cds::Modality::kFluoroscopy: return "RF";
    case cds::Modality::kCt: return "CT";
    case cds::Modality::kMr: return "MR";
    case cds::Modality::kUltrasound: return "US";
    case cds::Modality::kNuclearMedicine: return "NM";
    case cds::Modality::kPet: return "PT";
    case cds::Modality::kDxa: return "BMD";
    case cds::Modality::kEcho: return "US";
    case cds::Modality::kEndoscopy: return "ES";
    default: return "";
  }
}

Result<std::vector<std::string>> Strings(const toml::table& table, const char* key, const std::string& where) {
  std::vector<std::string> values;
  const toml::node* node = table.get(key);
  if (!node) return values;
  const toml::array* array = node->as_array();
  if (!array) return Fail(ErrorCode::kInvalidInput, fmt::format("{}: '{}' is not a list", where, key));
  for (const auto& item : *array) {
    auto text = item.value<std::string>();
    if (!text) return Fail(ErrorCode::kInvalidInput, fmt::format("{}: '{}' holds something other than text", where, key));
    values.push_back(*text);
  }
  return values;
}

}  // namespace

Result<TestCatalogue> TestCatalogue::Load(const std::filesystem::path& knowledge_dir,
                                          const cds::KnowledgeBase& knowledge) {
  const auto path = knowledge_dir / "dm01.toml";
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& error) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("{}: {}", path.string(), error.description()));
  }
  if (!root.get("source") || !root.get("url")) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("{}: 'source' and 'url' must cite the DM01 definition", path.string()));
  }
  const toml::array* entries = root["group"].as_array();
  if (!entries || entries->empty()) return Fail(ErrorCode::kInvalidInput, fmt::format("{}: no [[group]]", path.string()));
  std::vector<TestGroup> groups;
  std::set<std::string> ids, claimed_codes, claimed_modalities;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::table* table = (*entries)[i].as_table();
    const std::string where = fmt::format("{}: group {}", path.string(), i + 1);
    if (!table) return Fail(ErrorCode::kInvalidInput, where + " is not a table");
    for (const auto& [key, value] : *table) {
      static const std::set<std::string> kKeys{"id", "name", "category", "modalities", "codes"};
      if (!kKeys.count(std::string(key.str()))) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("{}: unknown key '{}'", where, key.str()));
      }
    }
    TestGroup group;
    group.id = table->get("id") ? table->get("id")->value_or(std::string()) : "";
    group.name = table->get("name") ? table->get("name")->value_or(std::string()) : "";
    group.category = table->get("category") ? table->get("category")->value_or(std::string()) : "";
    if (group.id.empty() || group.name.empty() || group.category.empty()) {
      return Fail(ErrorCode::kInvalidInput, where + " needs id, name and category");
    }
    if (!ids.insert(group.id).second) return Fail(ErrorCode::kInvalidInput, fmt::format("{}: id {} twice", where, group.id));
    auto modalities = Strings(*table, "modalities", where);
    if (!modalities) return tl::unexpected(modalities.error());
    auto codes = Strings(*table, "codes", where);
    if (!codes) return tl::unexpected(codes.error());
    for (const auto& code : *codes) {
      if (!knowledge.investigations().FindCode(code)) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("{}: unknown investigation code {}", where, code));
      }
      if (!claimed_codes.insert(code).second) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("{}: code {} is in two groups", where, code));
      }
    }
    for (const auto& modality : *modalities) {
      if (!claimed_modalities.insert(modality).second) {
        return Fail(ErrorCode::kInvalidInput, fmt::format("{}: modality {} is in two groups", where, modality));
      }
    }
    group.modalities = std::move(*modalities);
    group.codes = std::move(*codes);
    groups.push_back(std::move(group));
  }
  return TestCatalogue(knowledge, std::move(groups));
}

TestCatalogue TestCatalogue::Make(const cds::KnowledgeBase& knowledge, std::vector<TestGroup> groups) {
  return TestCatalogue(knowledge, std::move(groups));
}

const TestGroup* TestCatalogue::Group(std::string_view id) const {
  for (const auto& group : groups_) {
    if (group.id == id) return &group;
  }
  return nullptr;
}

TestInfo TestCatalogue::Describe(const cds::Investigation& investigation) const {
  TestInfo info{investigation.code, investigation.name, investigation.snomed, DicomModality(investigation.modality), "",
                investigation.modality != cds::Modality::kReferral && investigation.modality != cds::Modality::kNone};
  const std::string catalogue_modality(cds::ToString(investigation.modality));
  for (const auto& group : groups_) {
    if (std::find(group.codes.begin(), group.codes.end(), investigation.code) != group.codes.end()) {
      info.test_group = group.id;
      return info;
    }
  }
  for (const auto& group : groups_) {
    if (std::find(group.modalities.begin(), group.modalities.end(), catalogue_modality) != group.modalities.end()) {
      info.test_group = group.id;
      return info;
    }
  }
  return info;
}

std::optional<TestInfo> TestCatalogue::Find(std::string_view system, std::string_view code) const {
  const auto& catalogue = knowledge_->investigations();
  if (system == kInvestigationSystem) {
    if (auto index = catalogue.FindCode(code)) return Describe(catalogue.at(*index));
    return std::nullopt;
  }
  if (system == kSnomedSystem && !code.empty()) {
    for (const auto& investigation : catalogue.all()) {
      if (investigation.snomed == code) return Describe(investigation);
    }
  }
  return std::nullopt;
}

}  // namespace dx::orders
