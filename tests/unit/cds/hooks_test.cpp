// The CDS Hooks layer without HTTP: FHIR input mapping (age on a date, sex,
// Condition statuses, ServiceRequest codes) and the cards built for each verdict.
#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cds/evaluator.hpp"
#include "cds/hooks/cards.hpp"
#include "cds/hooks/fhir_input.hpp"
#include "fixture_knowledge.hpp"

namespace dx::cds::hooks {
namespace {

using nlohmann::json;
using namespace std::chrono;

constexpr year_month_day kToday{year(2026), November, day(23)};

TEST(AgeOnTest, CountsCompletedYearsAndMonthsBelowOne) {
  EXPECT_EQ(AgeOn("1986-11-23", kToday), 40.0);
  EXPECT_EQ(AgeOn("1986-11-24", kToday), 39.0);  // birthday tomorrow
  EXPECT_EQ(AgeOn("1986-12-01", kToday), 39.0);
  EXPECT_EQ(AgeOn("2026-11-23", kToday), 0.0);
  EXPECT_EQ(AgeOn("2026-05-23", kToday), 0.5);
  EXPECT_EQ(AgeOn("2026-05-24", kToday), 5.0 / 12.0);
  EXPECT_EQ(AgeOn("2025-11-23", kToday), 1.0);
  EXPECT_EQ(AgeOn("2025-11-24", kToday), 11.0 / 12.0);
}

TEST(AgeOnTest, LeapDayBirthdaysAndBadDatesAreHandled) {
  constexpr year_month_day feb28{year(2027), February, day(28)};
  constexpr year_month_day mar1{year(2027), March, day(1)};
  EXPECT_EQ(AgeOn("2008-02-29", feb28), 18.0);  // the 29th is not reached on the 28th
  EXPECT_EQ(AgeOn("2008-02-29", mar1), 19.0);
  EXPECT_FALSE(AgeOn("1986", kToday));
  EXPECT_FALSE(AgeOn("1986-11", kToday));
  EXPECT_FALSE(AgeOn("1986-13-01", kToday));
  EXPECT_FALSE(AgeOn("1986-02-30", kToday));
  EXPECT_FALSE(AgeOn("2027-01-01", kToday));
  EXPECT_FALSE(AgeOn("19861123", kToday));
  EXPECT_FALSE(AgeOn("198a-11-23", kToday));
}

TEST(PatientFromFhirTest, ReadsAgeSexAndRefusesOtherResources) {
  auto facts = PatientFromFhir({{"resourceType", "Patient"}, {"id", "p1"}, {"birthDate", "1960-01-01"}, {"gender", "male"}},
                               kToday);
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->age, 66.0);
  EXPECT_EQ(facts->sex, PatientSex::kMale);
  EXPECT_EQ(facts->reference, "Patient/p1");
  auto other = PatientFromFhir({{"resourceType", "Patient"}, {"gender", "other"}}, kToday);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->age);
  EXPECT_EQ(other->sex, PatientSex::kUnknown);
  EXPECT_FALSE(PatientFromFhir({{"resourceType", "Practitioner"}}, kToday));
  EXPECT_FALSE(PatientFromFhir({{"resourceType", "Patient"}, {"birthDate", 1960}}, kToday));
}

json Condition(const std::string& snomed, const std::string& clinical, const std::string& verification,
               const std::string& text = "") {
  json c = {{"resourceType", "Condition"},
            {"code", {{"coding", json::array({{{"system", kSnomedSystem}, {"code", snomed}}})}}}};
  if (!text.empty()) c["code"]["text"] = text;
  if (!clinical.empty()) c["clinicalStatus"] = {{"coding", json::array({{{"code", clinical}}})}};
  if (!verification.empty()) c["verificationStatus"] = {{"coding", json::array({{{"code", verification}}})}};
  return c;
}

TEST(FindingsFromConditionsTest, UsesActiveConditionsAndTurnsRefutedIntoAbsence) {
  const auto& knowledge = testing::FixtureKnowledge();
  json bundle = {{"resourceType", "Bundle"},
                 {"entry", json::array({{{"resource", Condition("49727002", "active", "confirmed")}},
                                        {{"resource", Condition("448765001", "resolved", "")}},
                                        {{"resource", Condition("448765001", "", "refuted")}},
                                        {{"resource", Condition("49727002", "active", "entered-in-error")}},
                                        {{"resource", Condition("111111", "active", "", "tired all the time")}},
                                        {{"resource", Condition("222222", "relapse", "", "Gout")}},
                                        {{"resource", {{"resourceType", "Observation"}}}}})}};
  auto findings = FindingsFromConditions(knowledge, bundle);
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 4u);
  EXPECT_EQ((*findings)[0].text, "49727002");
  EXPECT_TRUE((*findings)[0].present);
  EXPECT_EQ((*findings)[1].text, "448765001");
  EXPECT_FALSE((*findings)[1].present);
  EXPECT_EQ((*findings)[2].text, "tired all the time");  // unknown code, known text
  EXPECT_EQ((*findings)[3].text, "Gout");                // unknown either way: reported by the evaluator
  EXPECT_TRUE(FindingsFromConditions(knowledge, json())->empty());
  EXPECT_FALSE(FindingsFromConditions(knowledge, "cough"));
  EXPECT_FALSE(FindingsFromConditions(knowledge, {{"resourceType", "Bundle"}, {"entry", 3}}));
}

TEST(DraftOrderFromFhirTest, ResolvesTheTestBySnomedDxhubCodeOrText) {
  const auto& knowledge = testing::FixtureKnowledge();
  auto by_snomed = DraftOrderFromFhir(
      knowledge, {{"resourceType", "ServiceRequest"}, {"id", "a"},
                  {"code", {{"coding", json::array({{{"system", kSnomedSystem}, {"code", "399208008"}}})}}}});
  ASSERT_TRUE(by_snomed);
  EXPECT_EQ(by_snomed->requested, "XR-CHEST");
  EXPECT_EQ(by_snomed->reference, "ServiceRequest/a");
  EXPECT_EQ(by_snomed->priority, "routine");
  auto by_text = DraftOrderFromFhir(knowledge, {{"resourceType", "ServiceRequest"}, {"id", "b"}, {"priority", "urgent"},
                                                {"code", {{"text", "CXR"}}},
                                                {"reasonCode", json::array({{{"text", "persistent cough"}}})}});
  ASSERT_TRUE(by_text);
  EXPECT_EQ(by_text->requested, "XR-CHEST");
  EXPECT_EQ(by_text->priority, "urgent");
  ASSERT_EQ(by_text->reasons.size(), 1u);
  auto unknown = DraftOrderFromFhir(knowledge, {{"resourceType", "ServiceRequest"}, {"id", "c"},
                                                {"code", {{"text", "Vitamin D level"}}}});
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->requested);
  EXPECT_EQ(unknown->display, "Vitamin D level");
  EXPECT_FALSE(DraftOrderFromFhir(knowledge, {{"resourceType", "ServiceRequest"}, {"id", "d"}}));
  EXPECT_FALSE(DraftOrderFromFhir(knowledge, {{"resourceType", "ServiceRequest"}, {"code", {{"text", "CXR"}}}}));
  EXPECT_FALSE(DraftOrderFromFhir(knowledge, {{"resourceType", "MedicationRequest"}, {"id", "e"}}));
}

// Builds the order and evaluates it as the service does.
struct Evaluated {
  DraftOrder order;
  Outcome outcome;
};

Evaluated Evaluate(const std::string& requested, const std::string& priority, double age,
                   std::vector<std::string> findings) {
  const auto& knowledge = testing::FixtureKnowledge();
  auto order = DraftOrderFromFhir(knowledge, {{"resourceType", "ServiceRequest"}, {"id", "o1"}, {"priority", priority},
                                              {"code", {{"coding", json::array({{{"system", kInvestigationSystem},
                                                                                 {"code", requested}}})}}}});
  EXPECT_TRUE(order);
  Case input;
  input.age = age;
  for (auto& f : findings) input.findings.push_back({f, true});
  input.requested = order->requested;
  return {*order, cds::Evaluate(knowledge, input)};
}

TEST(CardsForOrderTest, InappropriateOrderGetsAWarningWithAReplacement) {
  auto [order, outcome] = Evaluate("CT-CHEST", "routine", 62, {"cough", "weight_loss"});
  std::vector<std::string> ids;
  json cards = CardsForOrder(testing::FixtureKnowledge(), order, outcome, "c-1", ids);
  ASSERT_EQ(cards.size(), 1u);
  const json& card = cards[0];
  EXPECT_EQ(card["indicator"], "warning");
  EXPECT_LE(card["summary"].get<std::string>().size(), 139u);
  EXPECT_EQ(ids, std::vector<std::string>{card["uuid"].get<std::string>()});
  const json& actions = card["suggestions"][0]["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["type"], "delete");
  EXPECT_EQ(actions[0]["resourceId"], "ServiceRequest/o1");
  EXPECT_EQ(actions[1]["resource"]["code"]["coding"][0]["code"], "XR-CHEST");
  EXPECT_EQ(actions[1]["resource"]["priority"], "urgent");
  EXPECT_FALSE(card["overrideReasons"].empty());
  EXPECT_NE(card["detail"].get<std::string>().find("c-1"), std::string::npos);
  EXPECT_EQ(VerdictWord(order, outcome), "not-appropriate");
}

TEST(CardsForOrderTest, EmergencyRedFlagsMakeCriticalCards) {
  auto [order, outcome] = Evaluate("XR-LSPINE", "routine", 50, {"low_back_pain", "saddle_anaesthesia"});
  std::vector<std::string> ids;
  json cards = CardsForOrder(testing::FixtureKnowledge(), order, outcome, "c-2", ids);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0]["indicator"], "critical");
}

TEST(CardsForOrderTest, AppropriateOrderIsInfoOnlyWhenItsPriorityMatches) {
  std::vector<std::string> ids;
  auto urgent = Evaluate("XR-CHEST", "urgent", 62, {"cough", "weight_loss"});
  json cards = CardsForOrder(testing::FixtureKnowledge(), urgent.order, urgent.outcome, "c-3", ids);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0]["indicator"], "info");
  EXPECT_FALSE(cards[0].contains("suggestions"));
  auto routine = Evaluate("XR-CHEST", "routine", 62, {"cough", "weight_loss"});
  cards = CardsForOrder(testing::FixtureKnowledge(), routine.order, routine.outcome, "c-4", ids);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0]["indicator"], "warning");
  EXPECT_EQ(cards[0]["suggestions"][0]["actions"][0]["resource"]["priority"], "urgent");
}

TEST(CardsForOrderTest, MissingAgeIsAWarningNotAGuess) {
  const auto& knowledge = testing::FixtureKnowledge();
  auto evaluated = Evaluate("XR-CHEST", "routine", 62, {"cough"});
  Case input;
  input.findings.push_back({"cough", true});
  input.requested = "XR-CHEST";
  Outcome outcome = cds::Evaluate(knowledge, input);
  std::vector<std::string> ids;
  json cards = CardsForOrder(knowledge, evaluated.order, outcome, "c-5", ids);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_EQ(cards[0]["indicator"], "warning");
  EXPECT_NE(cards[0]["summary"].get<std::string>().find("could not be checked"), std::string::npos);
  EXPECT_EQ(VerdictWord(evaluated.order, outcome), "error");
}

TEST(CardsForOrderTest, ConsultationActionStampsTheOrder) {
  auto [order, outcome] = Evaluate("CT-CHEST", "routine", 62, {"cough", "weight_loss"});
  json action = ConsultationAction(order, outcome, "c-6");
  EXPECT_EQ(action["type"], "update");
  EXPECT_EQ(action["resource"]["id"], "o1");
  const json& extension = action["resource"]["extension"].back();
  EXPECT_EQ(extension["url"], kConsultationExtension);
  EXPECT_EQ(extension["extension"][0]["valueString"], "c-6");
  EXPECT_EQ(extension["extension"][1]["valueCode"], "not-appropriate");
}

TEST(PriorityForTest, MapsUrgencyToFhirPriority) {
  EXPECT_EQ(PriorityFor(Urgency::kImmediate), "stat");
  EXPECT_EQ(PriorityFor(Urgency::kWithin24Hours), "asap");
  EXPECT_EQ(PriorityFor(Urgency::kWithin48Hours), "asap");
  EXPECT_EQ(PriorityFor(Urgency::kWithin2Weeks), "urgent");
  EXPECT_EQ(PriorityFor(Urgency::kRoutine), "routine");
  EXPECT_EQ(PriorityFor(Urgency::kNone), "routine");
}

}  // namespace
}  // namespace dx::cds::hooks
