#include "cds/loader.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "fixture_knowledge.hpp"

namespace dx::cds {
namespace {

using testing::FixtureSources;

// A minimal valid topic with one rule whose body can be replaced per test.
std::string Topic(const std::string& rule_body, const std::string& topic_id = "t") {
  return "[topic]\nid = \"" + topic_id + "\"\ntitle = \"T\"\nguidelines = [\"NICE NG12\"]\n\n[[rule]]\n" + rule_body;
}

const std::string kGoodRule = R"(id = "R-1"
version = 1
title = "Rule one"
applies_to = { age_min = 40, age_max = 80 }
all_of = ["cough"]
recommend = [{ investigation = "XR-CHEST" }]
urgency = "within-2-weeks"
score = 8
source = { guideline = "NICE NG12", recommendation = "1.1.2", url = "https://www.nice.org.uk/guidance/ng12" }
rationale = "Because."
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture text lacks: " << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

// Loads the fixture vocabulary plus one extra topic file and returns the error.
std::string ErrorFor(const std::string& topic_text, const std::string& name = "topics/t.toml") {
  auto sources = FixtureSources();
  sources.topics.push_back({name, topic_text});
  auto loaded = ParseKnowledgeBase(sources);
  if (loaded) return "<loaded without error>";
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidInput);
  return loaded.error().message;
}

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(LoaderTest, FixtureLoads) {
  auto loaded = ParseKnowledgeBase(FixtureSources());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->rules().size(), 6u);
  EXPECT_EQ(loaded->topics().size(), 2u);
  const Rule& rule = loaded->rules()[*loaded->FindRule("LUNG-40")];
  EXPECT_EQ(rule.version, 2);
  EXPECT_EQ(rule.topic, "lung");
  EXPECT_EQ(rule.file, "topics/lung.toml");
  EXPECT_EQ(rule.any_of_min, 2);
  EXPECT_DOUBLE_EQ(rule.age_min, 40.0);
  EXPECT_EQ(rule.source.recommendation, "1.1.2");
  const Rule& ces = loaded->rules()[*loaded->FindRule("LBP-CES")];
  ASSERT_EQ(ces.recommend.size(), 2u);
  EXPECT_EQ(ces.recommend[0].score, 9);  // inherits the rule score
  EXPECT_EQ(ces.recommend[1].score, 8);  // per-item override
  const auto& ct = loaded->investigations().at(*loaded->investigations().FindCode("CT-CHEST"));
  EXPECT_EQ(ct.dose_band, DoseBand::kIII);
  const auto& xr = loaded->investigations().at(*loaded->investigations().FindCode("XR-CHEST"));
  EXPECT_EQ(xr.dose_band, DoseBand::kI);
}

TEST(LoaderTest, GoodExtraTopicLoads) {
  EXPECT_EQ(ErrorFor(Topic(kGoodRule)), "<loaded without error>");
}

TEST(LoaderTest, UnknownRuleKeyNamesFileLineAndRule) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "all_of", "all_off")));
  EXPECT_CONTAINS(error, "topics/t.toml:");
  EXPECT_CONTAINS(error, "rule R-1: unknown key 'all_off'");
}

TEST(LoaderTest, MissingSource) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "source = {", "#source = {")));
  EXPECT_CONTAINS(error, "topics/t.toml:");
  EXPECT_CONTAINS(error, "rule R-1: missing required key 'source'");
}

TEST(LoaderTest, SourceWithoutUrlOrRecommendation) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, ", url = \"https://www.nice.org.uk/guidance/ng12\"", "")));
  EXPECT_CONTAINS(error, "rule R-1: source: missing required key 'url'");
  auto error2 = ErrorFor(Topic(Replace(kGoodRule, "recommendation = \"1.1.2\", ", "")));
  EXPECT_CONTAINS(error2, "rule R-1: source: missing required key 'recommendation'");
}

TEST(LoaderTest, UnknownFindingId) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "all_of = [\"cough\"]", "all_of = [\"cuogh\"]")));
  EXPECT_CONTAINS(error, "topics/t.toml:");
  EXPECT_CONTAINS(error, "rule R-1: unknown finding 'cuogh' in all_of");
}

TEST(LoaderTest, UnknownInvestigation) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "\"XR-CHEST\"", "\"XR-CHESTY\"")));
  EXPECT_CONTAINS(error, "rule R-1: unknown investigation 'XR-CHESTY' in recommend");
}

TEST(LoaderTest, ScoreOutOfRange) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "score = 8", "score = 10")));
  EXPECT_CONTAINS(error, "rule R-1: score must be between 1 and 9, not 10");
  auto zero = ErrorFor(Topic(Replace(kGoodRule, "score = 8", "score = 0")));
  EXPECT_CONTAINS(zero, "rule R-1: score must be between 1 and 9, not 0");
}

TEST(LoaderTest, AgeBoundsInverted) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "age_min = 40, age_max = 80", "age_min = 80, age_max = 40")));
  EXPECT_CONTAINS(error, "rule R-1: applies_to: age_min");
  EXPECT_CONTAINS(error, "bounds inverted");
}

TEST(LoaderTest, BadSexAndUrgency) {
  auto sex = ErrorFor(Topic(Replace(kGoodRule, "age_max = 80", "age_max = 80, sex = \"woman\"")));
  EXPECT_CONTAINS(sex, "rule R-1: applies_to: sex must be any, female or male, not 'woman'");
  auto urgency = ErrorFor(Topic(Replace(kGoodRule, "within-2-weeks", "2w")));
  EXPECT_CONTAINS(urgency, "rule R-1: urgency must be");
  auto none = ErrorFor(Topic(Replace(kGoodRule, "within-2-weeks", "none")));
  EXPECT_CONTAINS(none, "rule R-1: urgency 'none' is only for rules whose recommendations are all modality NONE");
}

TEST(LoaderTest, DuplicateRuleIdAcrossFilesNamesBoth) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "\"R-1\"", "\"LUNG-40\"")));
  EXPECT_CONTAINS(error, "topics/t.toml:");
  EXPECT_CONTAINS(error, "rule LUNG-40: duplicate rule id (also defined in topics/lung.toml)");
}

TEST(LoaderTest, DuplicateRuleIdInOneFile) {
  auto error = ErrorFor(Topic(kGoodRule + "\n[[rule]]\n" + kGoodRule));
  EXPECT_CONTAINS(error, "rule R-1: duplicate rule id (also defined in topics/t.toml)");
}

TEST(LoaderTest, RuleWithoutCriteriaOrWithImpossibleExclusion) {
  auto no_criteria = ErrorFor(Topic(Replace(kGoodRule, "all_of = [\"cough\"]\n", "")));
  EXPECT_CONTAINS(no_criteria, "rule R-1: rule needs at least one of");
  auto impossible = ErrorFor(Topic(Replace(kGoodRule, "all_of = [\"cough\"]", "all_of = [\"cough\"]\nnone_of = [\"cough\"]")));
  EXPECT_CONTAINS(impossible, "rule R-1: finding 'cough' is both required and in none_of");
}

TEST(LoaderTest, AnyOfMinOutOfRange) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "all_of = [\"cough\"]", "any_of = [\"cough\", \"fatigue\"]\nany_of_min = 3")));
  EXPECT_CONTAINS(error, "rule R-1: any_of_min must be between 1 and the number of any_of findings (2)");
}

TEST(LoaderTest, RecommendedAndAdvisedAgainst) {
  auto error = ErrorFor(Topic(kGoodRule + "advise_against = [{ investigation = \"XR-CHEST\", reason = \"x\" }]\n"));
  EXPECT_CONTAINS(error, "rule R-1: investigation 'XR-CHEST' is both recommended and advised against");
}

TEST(LoaderTest, AdviseAgainstNeedsReason) {
  auto error = ErrorFor(Topic(kGoodRule + "advise_against = [{ investigation = \"CT-CHEST\" }]\n"));
  EXPECT_CONTAINS(error, "rule R-1: advise_against: missing required key 'reason'");
}

TEST(LoaderTest, WrongTypes) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "score = 8", "score = \"8\"")));
  EXPECT_CONTAINS(error, "rule R-1: 'score' must be an integer");
  auto list = ErrorFor(Topic(Replace(kGoodRule, "all_of = [\"cough\"]", "all_of = \"cough\"")));
  EXPECT_CONTAINS(list, "rule R-1: 'all_of' must be an array of strings");
}

TEST(LoaderTest, TomlSyntaxErrorNamesFileAndLine) {
  auto error = ErrorFor(Topic(Replace(kGoodRule, "score = 8", "score = = 8")));
  EXPECT_CONTAINS(error, "topics/t.toml:14:");
  EXPECT_CONTAINS(error, "TOML syntax error");
}

TEST(LoaderTest, TopicIdMustMatchFileName) {
  auto error = ErrorFor(Topic(kGoodRule, "other"));
  EXPECT_CONTAINS(error, "topics/t.toml:");
  EXPECT_CONTAINS(error, "topic: id 'other' must equal the file name 't'");
}

TEST(LoaderTest, TopicWithoutRulesOrMetadata) {
  auto error = ErrorFor("[topic]\nid = \"t\"\ntitle = \"T\"\nguidelines = [\"X\"]\n");
  EXPECT_CONTAINS(error, "topic has no [[rule]] entries");
  auto missing = ErrorFor("[[rule]]\n" + kGoodRule);
  EXPECT_CONTAINS(missing, "topics/t.toml:");
  EXPECT_CONTAINS(missing, "missing required key 'topic'");
  auto extra = ErrorFor(Topic(kGoodRule) + "\n[rules]\nx = 1\n");
  EXPECT_CONTAINS(extra, "file: unknown key 'rules'");
}

TEST(LoaderTest, ReportsEveryProblemAtOnce) {
  std::string broken = Replace(Replace(kGoodRule, "score = 8", "score = 12"), "\"cough\"", "\"nope\"");
  auto error = ErrorFor(Topic(broken));
  EXPECT_CONTAINS(error, "2 problems");
  EXPECT_CONTAINS(error, "score must be between 1 and 9");
  EXPECT_CONTAINS(error, "unknown finding 'nope'");
}

TEST(LoaderTest, FindingFileProblems) {
  auto sources = FixtureSources();
  sources.findings.push_back({"findings/extra.toml", R"(
[[finding]]
id = "cough"
label = "Cough again"
kind = "symptom"

[[finding]]
id = "Bad-Id"
label = "Bad"
kind = "feeling"
colour = "red"
)"});
  auto loaded = ParseKnowledgeBase(sources);
  ASSERT_FALSE(loaded);
  const auto& error = loaded.error().message;
  EXPECT_CONTAINS(error, "findings/extra.toml:2: finding 'cough': duplicate finding id 'cough' (first defined in findings.toml)");
  EXPECT_CONTAINS(error, "finding 'Bad-Id': id must match [a-z][a-z0-9_]*");
  EXPECT_CONTAINS(error, "finding 'Bad-Id': kind must be symptom, sign, history, test-result or demographic, not 'feeling'");
  EXPECT_CONTAINS(error, "finding 'Bad-Id': unknown key 'colour'");
}

TEST(LoaderTest, InvestigationFileProblems) {
  auto sources = FixtureSources();
  sources.investigations.push_back({"investigations/extra.toml", R"(
[[investigation]]
code = "CT-HEAD"
name = "CT head"
modality = "CT"
region = "head"

[[investigation]]
code = "CT-ABDO"
name = "CT abdomen"
modality = "CT"
region = "abdomen"
dose_msv = 10.0
dose_band = "III"

[[investigation]]
code = "US-ABDO"
name = "Abdominal ultrasound"
modality = "US"
region = "abdomen"
dose_msv = 1.0

[[investigation]]
code = "XR-HAND"
name = "Hand X-ray"
modality = "XRAY"
region = "hand"
)"});
  auto loaded = ParseKnowledgeBase(sources);
  ASSERT_FALSE(loaded);
  const auto& error = loaded.error().message;
  EXPECT_CONTAINS(error, "investigations/extra.toml:2: investigation 'CT-HEAD': missing required key 'dose_msv'");
  EXPECT_CONTAINS(error, "investigation 'CT-ABDO': dose_band III does not match dose_msv");
  EXPECT_CONTAINS(error, "investigation 'US-ABDO': dose_msv must be 0 for non-ionising modality US");
  EXPECT_CONTAINS(error, "investigation 'XR-HAND': modality must be one of");
}

TEST(LoaderTest, ReadsADirectoryInNameOrder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("dx_cds_loader_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "topics");
  fs::create_directories(dir / "findings");
  auto write = [&](const fs::path& path, const std::string& text) { std::ofstream(dir / path) << text; };
  auto sources = FixtureSources();
  write("findings.toml", sources.findings[0].text);
  write("findings/none.toml", "");
  write("investigations.toml", sources.investigations[0].text);
  write("topics/lung.toml", sources.topics[1].text);
  write("topics/back.toml", sources.topics[0].text);
  write("topics/README.md", "not a topic");
  auto read = ReadKnowledgeSources(dir);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->topics.size(), 2u);
  EXPECT_EQ(read->topics[0].name, "topics/back.toml");
  EXPECT_EQ(read->topics[1].name, "topics/lung.toml");
  EXPECT_EQ(read->findings.size(), 2u);
  auto loaded = LoadKnowledgeBase(dir);
  EXPECT_TRUE(loaded) << loaded.error().message;
  fs::remove_all(dir);

  auto missing = LoadKnowledgeBase(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace dx::cds
