#include "cds/vocabulary.hpp"

#include <gtest/gtest.h>

#include "fixture_knowledge.hpp"

namespace dx::cds {
namespace {

using testing::FixtureKnowledge;

std::string IdOf(const FindingMention& mention) {
  return mention.finding ? FixtureKnowledge().findings().at(*mention.finding).id : std::string("<unknown>");
}

TEST(NormaliseTermTest, LowerCasesAndCollapsesPunctuation) {
  EXPECT_EQ(NormaliseTerm("Weight-loss!"), "weight loss");
  EXPECT_EQ(NormaliseTerm("  WEIGHT_LOSS  "), "weight loss");
  EXPECT_EQ(NormaliseTerm("a&e"), "a e");
  EXPECT_EQ(NormaliseTerm("X-ray (chest)"), "x ray chest");
  EXPECT_EQ(NormaliseTerm("...---"), "");
}

TEST(StripNegationTest, RecognisesPrefixesAsWholeWords) {
  EXPECT_EQ(StripNegation("no weight loss").value_or("?"), "weight loss");
  EXPECT_EQ(StripNegation("No-weight-loss").value_or("?"), "weight-loss");
  EXPECT_EQ(StripNegation("!weight_loss").value_or("?"), "weight_loss");
  EXPECT_EQ(StripNegation("Denies haemoptysis").value_or("?"), "haemoptysis");
  EXPECT_EQ(StripNegation("negative for fever").value_or("?"), "fever");
  EXPECT_EQ(StripNegation("without cough").value_or("?"), "cough");
  EXPECT_FALSE(StripNegation("nocturia"));
  EXPECT_FALSE(StripNegation("notable swelling"));
  EXPECT_FALSE(StripNegation("no"));
  EXPECT_FALSE(StripNegation("cough"));
}

TEST(FindingVocabularyTest, ResolvesIdsSnomedLabelsAndSynonymsInsensitively) {
  const auto& vocabulary = FixtureKnowledge().findings();
  EXPECT_EQ(IdOf(vocabulary.Resolve({"weight_loss"})), "weight_loss");
  EXPECT_EQ(IdOf(vocabulary.Resolve({"448765001"})), "weight_loss");
  EXPECT_EQ(IdOf(vocabulary.Resolve({"Unexplained Weight-Loss"})), "weight_loss");
  EXPECT_EQ(IdOf(vocabulary.Resolve({"LOSING WEIGHT."})), "weight_loss");
  EXPECT_EQ(IdOf(vocabulary.Resolve({"weight loss"})), "weight_loss");  // id with _ read as space
  EXPECT_EQ(IdOf(vocabulary.Resolve({" Tired all the time "})), "fatigue");
  EXPECT_TRUE(vocabulary.Resolve({"cough"}).present);
}

TEST(FindingVocabularyTest, ResolvesNegations) {
  const auto& vocabulary = FixtureKnowledge().findings();
  auto negated = vocabulary.Resolve({"no weight loss"});
  EXPECT_EQ(IdOf(negated), "weight_loss");
  EXPECT_FALSE(negated.present);
  auto bang = vocabulary.Resolve({"!ever_smoked"});
  EXPECT_EQ(IdOf(bang), "ever_smoked");
  EXPECT_FALSE(bang.present);
  auto denies = vocabulary.Resolve({"Denies coughing up blood"});
  EXPECT_EQ(IdOf(denies), "haemoptysis");
  EXPECT_FALSE(denies.present);
  auto explicit_absent = vocabulary.Resolve({"cough", false});
  EXPECT_EQ(IdOf(explicit_absent), "cough");
  EXPECT_FALSE(explicit_absent.present);
  // A double negative: absent flag on a negated text means present.
  auto double_negative = vocabulary.Resolve({"no cough", false});
  EXPECT_TRUE(double_negative.present);
}

TEST(FindingVocabularyTest, KnownTermBeginningWithNoIsNotANegation) {
  const auto& vocabulary = FixtureKnowledge().findings();
  auto mention = vocabulary.Resolve({"No improvement after antibiotics"});
  EXPECT_EQ(IdOf(mention), "no_improvement");
  EXPECT_TRUE(mention.present);
}

TEST(FindingVocabularyTest, UnknownTextIsReportedNotGuessed) {
  const auto& vocabulary = FixtureKnowledge().findings();
  EXPECT_FALSE(vocabulary.Resolve({"purple toes"}).finding);
  EXPECT_FALSE(vocabulary.Resolve({"no purple toes"}).finding);
  EXPECT_FALSE(vocabulary.Resolve({"!"}).finding);
  EXPECT_FALSE(vocabulary.Resolve({""}).finding);
  EXPECT_FALSE(vocabulary.Resolve({"coug"}).finding);
}

TEST(FindingVocabularyTest, ImpliesClosureAndReverse) {
  const auto& vocabulary = FixtureKnowledge().findings();
  auto bilateral = *vocabulary.FindId("bilateral_sciatica");
  auto sciatica = *vocabulary.FindId("sciatica");
  ASSERT_EQ(vocabulary.at(bilateral).implies_closure.size(), 1u);
  EXPECT_EQ(vocabulary.at(bilateral).implies_closure[0], sciatica);
  ASSERT_EQ(vocabulary.at(sciatica).implied_by.size(), 1u);
  EXPECT_EQ(vocabulary.at(sciatica).implied_by[0], bilateral);
}

TEST(FindingVocabularyTest, RejectsDuplicatesAndAmbiguousTerms) {
  FindingVocabulary vocabulary;
  ASSERT_TRUE(vocabulary.Add({.id = "cough", .label = "Cough", .snomed = "49727002"}));
  auto same_id = vocabulary.Add({.id = "cough", .label = "Other"});
  ASSERT_FALSE(same_id);
  EXPECT_NE(same_id.error().message.find("duplicate finding id 'cough'"), std::string::npos);
  auto same_snomed = vocabulary.Add({.id = "other", .label = "Other", .snomed = "49727002"});
  ASSERT_FALSE(same_snomed);
  EXPECT_NE(same_snomed.error().message.find("49727002"), std::string::npos);
  auto same_term = vocabulary.Add({.id = "tussis", .label = "Tussis", .synonyms = {"COUGH"}});
  ASSERT_FALSE(same_term);
  EXPECT_NE(same_term.error().message.find("'cough'"), std::string::npos);
  // The failed add left nothing behind: "tussis" is free to use.
  EXPECT_FALSE(vocabulary.FindText("tussis"));
  EXPECT_TRUE(vocabulary.Add({.id = "tussis", .label = "Tussis"}));
}

TEST(FindingVocabularyTest, FinaliseRejectsCyclesAndUnknownImplies) {
  FindingVocabulary cyclic;
  ASSERT_TRUE(cyclic.Add({.id = "a", .label = "A", .implies = {"b"}}));
  ASSERT_TRUE(cyclic.Add({.id = "b", .label = "B", .implies = {"a"}}));
  auto r = cyclic.Finalise();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cycle"), std::string::npos);

  FindingVocabulary dangling;
  ASSERT_TRUE(dangling.Add({.id = "a", .label = "A", .implies = {"zzz"}, .file = "findings.toml"}));
  auto d = dangling.Finalise();
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("findings.toml: finding 'a': implies unknown finding 'zzz'"), std::string::npos);
}

TEST(InvestigationCatalogueTest, ResolvesCodeSnomedNameAndSynonym) {
  const auto& catalogue = FixtureKnowledge().investigations();
  auto code_of = [&](std::string_view text) {
    auto index = catalogue.Resolve(text);
    return index ? catalogue.at(*index).code : std::string("<unknown>");
  };
  EXPECT_EQ(code_of("XR-CHEST"), "XR-CHEST");
  EXPECT_EQ(code_of("xr chest"), "XR-CHEST");
  EXPECT_EQ(code_of("399208008"), "XR-CHEST");
  EXPECT_EQ(code_of("Chest X-Ray"), "XR-CHEST");
  EXPECT_EQ(code_of("cxr"), "XR-CHEST");
  EXPECT_EQ(code_of("MRI brain"), "<unknown>");
  EXPECT_FALSE(catalogue.FindCode("xr-chest"));  // codes are exact
}

}  // namespace
}  // namespace dx::cds
