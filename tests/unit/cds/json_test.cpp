#include "cds/json.hpp"

#include <gtest/gtest.h>

#include "fixture_knowledge.hpp"

namespace dx::cds {
namespace {

using nlohmann::json;
using testing::FixtureKnowledge;

TEST(CaseJsonTest, ParsesAllEntryForms) {
  auto parsed = CaseFromJson(json::parse(R"({
    "age": 62, "sex": "female",
    "findings": ["cough", "no weight loss", {"code": "448765001", "present": false}, {"text": "tired all the time"}],
    "history": ["ex-smoker"], "requested": "CXR"})"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_DOUBLE_EQ(*parsed->age, 62.0);
  EXPECT_EQ(parsed->sex, PatientSex::kFemale);
  ASSERT_EQ(parsed->findings.size(), 4u);
  EXPECT_EQ(parsed->findings[2].text, "448765001");
  EXPECT_FALSE(parsed->findings[2].present);
  EXPECT_EQ(parsed->history[0].text, "ex-smoker");
  EXPECT_EQ(*parsed->requested, "CXR");
}

TEST(CaseJsonTest, RoundTrips) {
  Case c;
  c.age = 45.5;
  c.sex = PatientSex::kMale;
  c.findings = {{"cough", true}, {"weight_loss", false}};
  c.requested = "XR-CHEST";
  auto back = CaseFromJson(CaseToJson(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(CaseToJson(*back), CaseToJson(c));
}

TEST(CaseJsonTest, RejectsMalformedInputNamingTheField) {
  struct Bad {
    const char* text;
    const char* message;
  };
  for (const auto& bad : {
           Bad{R"([])", "case must be a JSON object"},
           Bad{R"({"age": "sixty"})", "age must be a number"},
           Bad{R"({"sex": "f"})", "sex must be female, male or unknown, not 'f'"},
           Bad{R"({"findings": "cough"})", "findings must be an array"},
           Bad{R"({"findings": [3]})", "findings[0] must be a string or an object"},
           Bad{R"({"history": [{"present": false}]})", "history[0] needs code or text"},
           Bad{R"({"findings": [{"code": "a", "text": "b"}]})", "findings[0] must have only one of code or text"},
           Bad{R"({"findings": [{"code": "a", "negated": true}]})", "findings[0] has unknown key 'negated'"},
           Bad{R"({"agee": 40})", "case has unknown key 'agee'"},
       }) {
    auto parsed = CaseFromJson(json::parse(bad.text));
    ASSERT_FALSE(parsed) << bad.text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(parsed.error().message.find(bad.message), std::string::npos) << parsed.error().message;
  }
  auto missing_age = CaseFromJson(json::parse(R"({"findings": ["cough"]})"));
  ASSERT_TRUE(missing_age);  // reported by Evaluate, not the parser
  EXPECT_FALSE(missing_age->age);
}

TEST(OutcomeJsonTest, CarriesRecommendationVerdictAsksAndUnknowns) {
  auto input = CaseFromJson(json::parse(R"({"age": 62, "findings": ["cough", "weight loss", "purple toes"],
                                             "requested": "CT-CHEST"})"));
  ASSERT_TRUE(input);
  json out = OutcomeToJson(FixtureKnowledge(), Evaluate(FixtureKnowledge(), *input));
  EXPECT_EQ(out["ok"], true);
  const auto& top = out["recommendations"][0];
  EXPECT_EQ(top["rank"], 1);
  EXPECT_EQ(top["investigation"]["code"], "XR-CHEST");
  EXPECT_EQ(top["investigation"]["dose_band"], "I");
  EXPECT_EQ(top["investigation"]["modality"], "XR");
  EXPECT_EQ(top["score"], 9);
  EXPECT_EQ(top["band"], "usually-appropriate");
  EXPECT_EQ(top["urgency"], "within-2-weeks");
  EXPECT_EQ(top["rule"]["id"], "LUNG-40");
  EXPECT_EQ(top["rule"]["version"], 2);
  EXPECT_EQ(top["source"]["recommendation"], "1.1.2");
  EXPECT_EQ(top["applies_to"]["age_min"], 40.0);
  EXPECT_EQ(top["criteria"][0]["group"], "any_of");
  EXPECT_EQ(top["criteria"][0]["finding"], "cough");
  EXPECT_EQ(out["verdict"]["verdict"], "not-appropriate");
  EXPECT_EQ(out["verdict"]["reason"], "Chest X-ray first");
  EXPECT_EQ(out["verdict"]["requested"]["code"], "CT-CHEST");
  EXPECT_EQ(out["unknown_findings"], json::array({"purple toes"}));
  EXPECT_EQ(out["asks"][0]["finding"], "haemoptysis");
  EXPECT_EQ(out["asks"][0]["question"], "Haemoptysis?");
  EXPECT_EQ(out["asks"][0]["reason"], "changes-answer");
  EXPECT_EQ(out["findings"][2]["finding"], nullptr);
  EXPECT_EQ(out["matched_rules"][0]["id"], "LUNG-40");
}

TEST(OutcomeJsonTest, ErrorsAreListed) {
  Case c;
  c.findings = {{"cough", true}};
  json out = OutcomeToJson(FixtureKnowledge(), Evaluate(FixtureKnowledge(), c));
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["errors"][0]["field"], "age");
  EXPECT_TRUE(out["recommendations"].empty());
  EXPECT_EQ(out["verdict"], nullptr);
}

}  // namespace
}  // namespace dx::cds
