// Loads the real knowledge/ directory and runs the vignettes in
// tests/scenarios/cds/ (and this folder's data/) against it.
#include <filesystem>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "cds/loader.hpp"
#include "fixture_knowledge.hpp"
#include "scenario_runner.hpp"

namespace dx::cds {
namespace {

namespace fs = std::filesystem;
using testing::RunScenarioDirectory;
using testing::RunScenarioText;
using testing::ScenarioResult;

const fs::path kSourceDir = DX_SOURCE_DIR;

const KnowledgeBase* RealKnowledge() {
  static const auto loaded = LoadKnowledgeBase(kSourceDir / "knowledge");
  return loaded ? &*loaded : nullptr;
}

std::string Report(const ScenarioResult& result) {
  std::string out = std::to_string(result.failures.size()) + " of " + std::to_string(result.cases) +
                    " cases failed:\n";
  for (const auto& failure : result.failures) out += "  " + failure + "\n";
  return out;
}

TEST(KnowledgeDirectoryTest, LoadsWithoutProblems) {
  auto loaded = LoadKnowledgeBase(kSourceDir / "knowledge");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_GT(loaded->rules().size(), 0u);
  std::cout << "knowledge: " << loaded->topics().size() << " topics, " << loaded->rules().size() << " rules, "
            << loaded->findings().size() << " findings, " << loaded->investigations().size()
            << " investigations\n";
}

TEST(ScenarioTest, EngineVignettesPass) {
  const KnowledgeBase* knowledge = RealKnowledge();
  ASSERT_NE(knowledge, nullptr) << "knowledge/ does not load; see KnowledgeDirectoryTest";
  auto result = RunScenarioDirectory(*knowledge, kSourceDir / "tests/unit/cds/data");
  ASSERT_GT(result.cases, 0u);
  EXPECT_TRUE(result.failures.empty()) << Report(result);
}

TEST(ScenarioTest, ClinicalVignettesPass) {
  const KnowledgeBase* knowledge = RealKnowledge();
  ASSERT_NE(knowledge, nullptr) << "knowledge/ does not load; see KnowledgeDirectoryTest";
  auto result = RunScenarioDirectory(*knowledge, kSourceDir / "tests/scenarios/cds");
  if (result.files == 0) GTEST_SKIP() << "no vignette files in tests/scenarios/cds yet";
  EXPECT_TRUE(result.failures.empty()) << Report(result);
  std::cout << "vignettes: " << result.files << " files, " << result.cases << " cases, "
            << result.failures.size() << " failed\n";
  std::string uncovered;
  for (const auto& rule : knowledge->rules()) {
    if (!result.rules_exercised.contains(rule.id)) uncovered += " " + rule.id;
  }
  if (!uncovered.empty()) std::cout << "rules without a vignette:" << uncovered << "\n";
}

// The runner itself must catch mismatches, or the scenario tests prove nothing.
TEST(ScenarioRunnerTest, ReportsEachMismatchNamingFileAndCase) {
  const auto& knowledge = testing::FixtureKnowledge();
  ScenarioResult result;
  std::set<std::string> seen;
  RunScenarioText(knowledge, "fixture.toml", R"(
[[case]]
id = "ok-1"
rule = "LUNG-40"
description = "passes"
age = 62
findings = ["cough", "weight loss"]
requested = "CT-CHEST"
expect = { top = "XR-CHEST", urgency = "within-2-weeks", rule = "LUNG-40", verdict = "not-appropriate", matched = ["LUNG-40"], not_matched = ["LUNG-HAEM"], asks = ["haemoptysis"] }

[[case]]
id = "bad-top"
rule = "LUNG-40"
description = "wrong top and urgency"
age = 62
findings = ["cough", "weight loss"]
expect = { top = "CT-CHEST", urgency = "immediate" }

[[case]]
id = "bad-unknown"
rule = "LUNG-40"
description = "undeclared unknown finding"
age = 62
findings = ["cough", "weight loss", "purple toes"]
expect = { top = "XR-CHEST" }

[[case]]
id = "ok-error"
rule = "LUNG-40"
description = "missing age"
findings = ["cough"]
expect = { error = "age" }

[[case]]
id = "ok-1"
rule = "NO-SUCH-RULE"
description = "duplicate id, unknown rule, typo key"
age = 50
findigns = ["cough"]
expect = { top = "none" }
)",
                  seen, result);
  EXPECT_EQ(result.cases, 5u);
  ASSERT_EQ(result.failures.size(), 3u) << Report(result);
  EXPECT_NE(result.failures[0].find("fixture.toml: case bad-top (rule LUNG-40): [expected top CT-CHEST, got XR-CHEST, "
                                    "expected urgency immediate, got within-2-weeks]"),
            std::string::npos)
      << result.failures[0];
  EXPECT_NE(result.failures[1].find("unexpected unknown findings [purple toes]"), std::string::npos);
  EXPECT_NE(result.failures[2].find("duplicate case id"), std::string::npos);
  EXPECT_NE(result.failures[2].find("rule 'NO-SUCH-RULE' does not exist"), std::string::npos);
  EXPECT_NE(result.failures[2].find("unknown key 'findigns'"), std::string::npos);
}

}  // namespace
}  // namespace dx::cds
