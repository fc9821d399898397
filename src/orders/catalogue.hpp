// The tests a request may ask for: the investigations of the decision-support
// catalogue (knowledge/investigations.toml), each with its DICOM modality and its
// DM01 diagnostic test group (knowledge/dm01.toml). Built once at start-up, then
// read-only: concurrent lookups are safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cds/knowledge_base.hpp"
#include "core/error.hpp"

namespace dx::orders {

// The code system of investigation codes ("XR-CHEST") in FHIR.
inline constexpr char kInvestigationSystem[] = "https://fhir.dxhub.org/CodeSystem/investigation";
inline constexpr char kSnomedSystem[] = "http://snomed.info/sct";

struct TestGroup {
  std::string id;        // "MRI"
  std::string name;      // "Magnetic Resonance Imaging", as in the DM01 return
  std::string category;  // "Imaging", "Physiological Measurement", "Endoscopy"
  std::vector<std::string> modalities;
  std::vector<std::string> codes;
};

struct TestInfo {
  std::string code;        // investigation code
  std::string display;
  std::string snomed;      // "" when the catalogue has none
  std::string modality;    // DICOM modality (CT, MR, US...); "" when not an imaging test
  std::string test_group;  // DM01 group id; "" when outside DM01
  bool orderable = true;   // false for "no imaging" and referrals: not a test to perform
};

class TestCatalogue {
 public:
  // Reads knowledge_dir/dm01.toml; the investigations come from `knowledge`.
  // Fails naming the file and entry on a malformed or unknown entry.
  static Result<TestCatalogue> Load(const std::filesystem::path& knowledge_dir, const cds::KnowledgeBase& knowledge);
  // For tests: groups given directly.
  static TestCatalogue Make(const cds::KnowledgeBase& knowledge, std::vector<TestGroup> groups);

  // A coding: the investigation system with a code, or SNOMED CT with a concept id.
  std::optional<TestInfo> Find(std::string_view system, std::string_view code) const;
  std::optional<TestInfo> FindCode(std::string_view code) const { return Find(kInvestigationSystem, code); }
  const std::vector<TestGroup>& groups() const { return groups_; }
  const TestGroup* Group(std::string_view id) const;

 private:
  TestCatalogue(const cds::KnowledgeBase& knowledge, std::vector<TestGroup> groups)
      : knowledge_(&knowledge), groups_(std::move(groups)) {}
  TestInfo Describe(const cds::Investigation& investigation) const;

  const cds::KnowledgeBase* knowledge_;
  std::vector<TestGroup> groups_;
};

}  // namespace dx::orders
