#include "cds/evaluator.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cds/json.hpp"
#include "fixture_knowledge.hpp"

namespace dx::cds {
namespace {

using testing::FixtureKnowledge;

Case MakeCase(double age, std::vector<std::string> findings, std::optional<std::string> requested = std::nullopt,
              PatientSex sex = PatientSex::kUnknown) {
  Case c;
  c.age = age;
  c.sex = sex;
  for (auto& f : findings) c.findings.push_back({std::move(f), true});
  c.requested = std::move(requested);
  return c;
}

std::vector<std::string> AskIds(const Outcome& outcome) {
  std::vector<std::string> ids;
  for (const auto& ask : outcome.asks) ids.push_back(FixtureKnowledge().findings().at(ask.finding).id);
  return ids;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> MatchedIds(const Outcome& outcome) {
  std::vector<std::string> ids;
  for (const Rule* rule : outcome.matched_rules) ids.push_back(rule->id);
  return ids;
}

TEST(EvaluatorTest, RecommendsChestXrayForTwoSymptomsAtForty) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"persistent cough", "weight loss"}));
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome.recommendations.size(), 1u);
  const auto& top = outcome.recommendations[0];
  EXPECT_EQ(top.investigation->code, "XR-CHEST");
  EXPECT_EQ(top.rule->id, "LUNG-40");
  EXPECT_EQ(top.score, 9);
  EXPECT_EQ(top.band, ScoreBand::kUsuallyAppropriate);
  EXPECT_EQ(top.urgency, Urgency::kWithin2Weeks);
  EXPECT_EQ(top.investigation->dose_band, DoseBand::kI);
  EXPECT_DOUBLE_EQ(top.investigation->dose_msv, 0.02);
  EXPECT_EQ(*top.note, "within 2 weeks");
  EXPECT_EQ(top.rule->source.guideline, "NICE NG12");
  ASSERT_EQ(top.criteria.size(), 2u);
  EXPECT_EQ(top.criteria[0].group, CriterionGroup::kAnyOf);
  EXPECT_EQ(FixtureKnowledge().findings().at(top.criteria[0].finding).id, "cough");
  EXPECT_EQ(FixtureKnowledge().findings().at(top.criteria[1].finding).id, "weight_loss");
}

TEST(EvaluatorTest, AgeThresholdIsInclusive) {
  EXPECT_EQ(Evaluate(FixtureKnowledge(), MakeCase(40, {"cough", "fatigue"})).recommendations.size(), 1u);
  auto young = Evaluate(FixtureKnowledge(), MakeCase(39, {"cough", "fatigue"}));
  ASSERT_TRUE(young.ok());
  EXPECT_TRUE(young.recommendations.empty());
  EXPECT_TRUE(young.matched_rules.empty());
  EXPECT_TRUE(young.asks.empty()) << "age cannot be changed by asking";
  auto fractional = Evaluate(FixtureKnowledge(), MakeCase(39.9, {"cough", "fatigue"}));
  EXPECT_TRUE(fractional.recommendations.empty());
}

TEST(EvaluatorTest, RequestedTestAdvisedAgainstIsNotAppropriateWithReason) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "weight_loss"}, "CT-CHEST"));
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome.verdict);
  EXPECT_EQ(outcome.verdict->verdict, Verdict::kNotAppropriate);
  EXPECT_EQ(outcome.verdict->reason, "Chest X-ray first");
  EXPECT_EQ(outcome.verdict->rule->id, "LUNG-40");
  EXPECT_FALSE(outcome.verdict->score);
  EXPECT_EQ(outcome.recommendations[0].investigation->code, "XR-CHEST");
}

TEST(EvaluatorTest, RequestedTestByFreeTextIsAppropriate) {
  for (const char* text : {"XR-CHEST", "chest x-ray", "CXR", "399208008"}) {
    auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "weight_loss"}, text));
    ASSERT_TRUE(outcome.ok()) << text;
    EXPECT_EQ(outcome.verdict->verdict, Verdict::kAppropriate) << text;
    EXPECT_EQ(outcome.verdict->score, 9);
    EXPECT_EQ(outcome.verdict->reason, "Two symptoms at 40+.");
  }
}

TEST(EvaluatorTest, MayBeAppropriateBandAndSexBounds) {
  auto female = Evaluate(FixtureKnowledge(), MakeCase(60, {"postmenopausal_bleeding"}, "US-PELVIS", PatientSex::kFemale));
  ASSERT_TRUE(female.ok());
  EXPECT_EQ(female.verdict->verdict, Verdict::kMayBeAppropriate);
  EXPECT_EQ(female.recommendations[0].band, ScoreBand::kMayBeAppropriate);
  for (auto sex : {PatientSex::kMale, PatientSex::kUnknown}) {
    auto other = Evaluate(FixtureKnowledge(), MakeCase(60, {"postmenopausal_bleeding"}, "US-PELVIS", sex));
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(other.recommendations.empty());
    EXPECT_EQ(other.verdict->verdict, Verdict::kNoGuidance);
  }
}

TEST(EvaluatorTest, NoGuidanceWhenNothingMatchesOrTestNotMentioned) {
  auto nothing = Evaluate(FixtureKnowledge(), MakeCase(30, {"cough"}, "XR-CHEST"));
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing.verdict->verdict, Verdict::kNoGuidance);
  EXPECT_EQ(nothing.verdict->reason, "No rule in the knowledge base covers this presentation.");
  auto unmentioned = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "fatigue"}, "US-PELVIS"));
  EXPECT_EQ(unmentioned.verdict->verdict, Verdict::kNoGuidance);
  EXPECT_NE(unmentioned.verdict->reason.find("Pelvic ultrasound"), std::string::npos);
}

TEST(EvaluatorTest, InputErrors) {
  Case no_age = MakeCase(0, {"cough"});
  no_age.age.reset();
  auto missing = Evaluate(FixtureKnowledge(), no_age);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.errors[0].field, "age");
  EXPECT_TRUE(missing.recommendations.empty());

  for (double bad : {-1.0, 131.0, std::numeric_limits<double>::quiet_NaN()}) {
    auto outcome = Evaluate(FixtureKnowledge(), MakeCase(bad, {"cough"}));
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.errors[0].field, "age");
  }

  auto unknown_test = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "fatigue"}, "MRI brain"));
  ASSERT_FALSE(unknown_test.ok());
  EXPECT_EQ(unknown_test.errors[0].field, "requested");
  EXPECT_EQ(unknown_test.errors[0].message, "unknown requested test 'MRI brain'");
  EXPECT_TRUE(unknown_test.recommendations.empty());
  EXPECT_FALSE(unknown_test.verdict);
}

TEST(EvaluatorTest, ContradictoryFindingsAreAnError) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "weight loss", "no weight loss"}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errors[0].field, "findings");
  EXPECT_NE(outcome.errors[0].message.find("'weight_loss'"), std::string::npos);
  EXPECT_TRUE(outcome.recommendations.empty());

  // Through implies: bilateral sciatica is sciatica.
  auto implied = Evaluate(FixtureKnowledge(), MakeCase(50, {"bilateral sciatica", "no sciatica"}));
  ASSERT_FALSE(implied.ok());
  EXPECT_NE(implied.errors[0].message.find("sciatica"), std::string::npos);

  // Present in history, absent in findings.
  Case split = MakeCase(62, {"!ever_smoked", "cough"});
  split.history.push_back({"ex-smoker", true});
  EXPECT_FALSE(Evaluate(FixtureKnowledge(), split).ok());
}

TEST(EvaluatorTest, UnknownFindingsAreListedAndEvaluationContinues) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "purple toes", "weight loss"}));
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome.unknown_findings.size(), 1u);
  EXPECT_EQ(outcome.unknown_findings[0], "purple toes");
  EXPECT_EQ(outcome.recommendations.size(), 1u);
  ASSERT_EQ(outcome.mentions.size(), 3u);
  EXPECT_FALSE(outcome.mentions[1].finding);
}

TEST(EvaluatorTest, NearMissAsksForMissingFindings) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough"}));
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome.recommendations.empty());
  auto asks = AskIds(outcome);
  EXPECT_TRUE(Contains(asks, "fatigue"));
  EXPECT_TRUE(Contains(asks, "weight_loss"));
  EXPECT_TRUE(Contains(asks, "ever_smoked"));
  EXPECT_FALSE(Contains(asks, "cough"));
  for (const auto& ask : outcome.asks) EXPECT_EQ(ask.reason, AskReason::kNearMiss);

  // A finding known to be absent is never asked.
  auto denied = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "!ever_smoked", "no weight loss"}));
  auto denied_asks = AskIds(denied);
  EXPECT_FALSE(Contains(denied_asks, "ever_smoked"));
  EXPECT_FALSE(Contains(denied_asks, "weight_loss"));
  EXPECT_TRUE(Contains(denied_asks, "fatigue"));
}

TEST(EvaluatorTest, NoNearMissWithoutAnyPresentFinding) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {}));
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome.asks.empty());
}

TEST(EvaluatorTest, NearMissThatWouldRepeatTheAnswerIsNotAsked) {
  // LUNG-40 already recommends XR-CHEST; LUNG-40-SMOKER would add nothing.
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(62, {"cough", "fatigue"}));
  auto asks = AskIds(outcome);
  EXPECT_FALSE(Contains(asks, "ever_smoked"));
  EXPECT_TRUE(Contains(asks, "haemoptysis"));  // from the matched rule's asks
}

TEST(EvaluatorTest, NoImagingForBackPainWithoutRedFlagsAndAsksRedFlags) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(45, {"back pain"}, "MR-LSPINE"));
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome.recommendations.size(), 1u);
  EXPECT_EQ(outcome.recommendations[0].investigation->code, "NO-IMAGING");
  EXPECT_EQ(outcome.recommendations[0].urgency, Urgency::kNone);
  EXPECT_EQ(outcome.verdict->verdict, Verdict::kNotAppropriate);
  EXPECT_EQ(outcome.verdict->reason, "MRI only in specialist care");
  auto asks = AskIds(outcome);
  ASSERT_EQ(asks.size(), 2u);  // the rule's asks and the CES near-miss give the same two, once each
  EXPECT_EQ(asks[0], "saddle_anaesthesia");
  EXPECT_EQ(asks[1], "bilateral_sciatica");

  auto denied = Evaluate(FixtureKnowledge(), MakeCase(45, {"back pain", "no saddle numbness"}));
  EXPECT_EQ(AskIds(denied), std::vector<std::string>{"bilateral_sciatica"});
}

TEST(EvaluatorTest, RedFlagMakesItUrgentAndRanksByUrgency) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(45, {"back pain", "saddle anaesthesia"}, "MRI lumbar spine"));
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome.recommendations.size(), 2u);
  EXPECT_EQ(outcome.recommendations[0].investigation->code, "REF-ED");
  EXPECT_EQ(outcome.recommendations[0].urgency, Urgency::kImmediate);
  EXPECT_EQ(outcome.recommendations[1].investigation->code, "MR-LSPINE");
  EXPECT_EQ(outcome.recommendations[1].score, 8);
  EXPECT_EQ(outcome.verdict->verdict, Verdict::kAppropriate);
  EXPECT_EQ(MatchedIds(outcome), std::vector<std::string>{"LBP-CES"});
  EXPECT_EQ(outcome.recommendations[0].criteria.size(), 2u);  // any_of + red_flags
  EXPECT_EQ(outcome.recommendations[0].criteria[1].group, CriterionGroup::kRedFlags);
}

TEST(EvaluatorTest, ImpliedFindingSatisfiesCriteria) {
  // bilateral_sciatica implies sciatica (any_of) and is itself a red flag.
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(45, {"bilateral sciatica"}));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(MatchedIds(outcome), std::vector<std::string>{"LBP-CES"});
}

TEST(EvaluatorTest, ExclusionRoutesToTheOtherRule) {
  auto outcome = Evaluate(FixtureKnowledge(), MakeCase(60, {"cough", "weight loss", "coughing up blood"}));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(MatchedIds(outcome), std::vector<std::string>{"LUNG-HAEM"});
  EXPECT_EQ(outcome.recommendations[0].investigation->code, "REF-2WW-LUNG");
}

TEST(EvaluatorTest, SameInvestigationFromTwoRulesIsOneRecommendation) {
  Case c = MakeCase(62, {"cough", "fatigue"});
  c.history.push_back({"smoker", true});
  auto outcome = Evaluate(FixtureKnowledge(), c);
  ASSERT_EQ(outcome.recommendations.size(), 1u);
  EXPECT_EQ(outcome.recommendations[0].rule->id, "LUNG-40");
  ASSERT_EQ(outcome.recommendations[0].also_supported_by.size(), 1u);
  EXPECT_EQ(outcome.recommendations[0].also_supported_by[0]->id, "LUNG-40-SMOKER");
  EXPECT_EQ(MatchedIds(outcome), (std::vector<std::string>{"LUNG-40", "LUNG-40-SMOKER"}));
}

TEST(EvaluatorTest, CautionWhenOneRuleRecommendsWhatAnotherAdvisesAgainst) {
  // Build a base where two rules disagree about CT-CHEST.
  auto sources = testing::FixtureSources();
  sources.topics.push_back({"topics/extra.toml", R"(
[topic]
id = "extra"
title = "Extra"
guidelines = ["TEST"]

[[rule]]
id = "EXTRA-CT"
version = 1
title = "CT for fatigue"
all_of = ["fatigue"]
recommend = [{ investigation = "CT-CHEST" }]
urgency = "routine"
score = 5
source = { guideline = "TEST", recommendation = "1", url = "https://example.org" }
rationale = "Test only."
)"});
  auto base = ParseKnowledgeBase(sources);
  ASSERT_TRUE(base) << base.error().message;
  auto outcome = Evaluate(*base, MakeCase(62, {"cough", "fatigue"}, "CT-CHEST"));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.verdict->verdict, Verdict::kMayBeAppropriate);
  ASSERT_EQ(outcome.verdict->cautions.size(), 1u);
  EXPECT_EQ(outcome.verdict->cautions[0].rule->id, "LUNG-40");
  EXPECT_EQ(*outcome.verdict->cautions[0].reason, "Chest X-ray first");
  // Ranking: within-2-weeks before routine.
  EXPECT_EQ(outcome.recommendations[0].investigation->code, "XR-CHEST");
  EXPECT_EQ(outcome.recommendations[1].investigation->code, "CT-CHEST");
}

TEST(EvaluatorTest, DeterministicWhateverTheInputOrder) {
  Case a = MakeCase(50, {"back pain", "saddle numbness", "cough", "fatigue", "purple toes"}, "CXR");
  Case b = MakeCase(50, {"purple toes", "fatigue", "cough", "saddle numbness", "back pain"}, "CXR");
  auto ja = OutcomeToJson(FixtureKnowledge(), Evaluate(FixtureKnowledge(), a));
  auto jb = OutcomeToJson(FixtureKnowledge(), Evaluate(FixtureKnowledge(), b));
  ja.erase("findings");
  jb.erase("findings");  // echoes the input order by design
  EXPECT_EQ(ja, jb);
  auto again = OutcomeToJson(FixtureKnowledge(), Evaluate(FixtureKnowledge(), a));
  again.erase("findings");
  EXPECT_EQ(ja.dump(), again.dump());
}

}  // namespace
}  // namespace dx::cds
