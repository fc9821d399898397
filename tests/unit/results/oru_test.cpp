#include "results/oru.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dx::results {
namespace {

using nlohmann::json;

const std::string kHeader = "MSH|^~\\&|WINPATH|RBZ|GPSYS|Y01234|20261120093000+0000||ORU^R01|M1|P|2.4\r"
                            "PID|1||A1^^^RBZ^MR~9434765919^^^NHS^NH||SMITH^JOHN||19600101|M\r"
                            "PD1|||HIGH STREET SURGERY^^Y01234\r";

// An OBR segment with its fields where HL7 puts them: 3 filler order number, 4 test,
// 7 observation time, 22 report time, 24 section, 25 result status.
std::string Obr(const std::string& placer, const std::string& filler, const std::string& test,
                const std::string& observed, const std::string& reported, const std::string& section,
                const std::string& status) {
  std::vector<std::string> f(26);
  f[0] = "OBR";
  f[1] = "1";
  f[2] = placer;
  f[3] = filler;
  f[4] = test;
  f[7] = observed;
  f[22] = reported;
  f[24] = section;
  f[25] = status;
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) out += (i ? "|" : "") + f[i];
  return out + "\r";
}

std::vector<storage::ResourceRecord> Map(const std::string& body,
                                         storage::ResourceIds ids = storage::ResourceIds::kOrdered) {
  auto m = hl7::Message::Parse(kHeader + body);
  EXPECT_TRUE(m) << m.error().message;
  auto out = MapOru(*m, "WINPATH|RBZ", ids);
  EXPECT_TRUE(out) << (out ? "" : out.error().text);
  return out ? out->resources : std::vector<storage::ResourceRecord>{};
}

hl7::AckProblem Problem(const std::string& text) {
  auto m = hl7::Message::Parse(text);
  EXPECT_TRUE(m) << m.error().message;
  auto out = MapOru(*m, "WINPATH|RBZ", storage::ResourceIds::kOrdered);
  EXPECT_FALSE(out);
  return out ? hl7::AckProblem{} : out.error();
}

TEST(OruMapping, AFullBloodCountBecomesAReportWithObservations) {
  auto resources = Map(
      Obr("PL1", "FL1", "26604007^Full blood count^SCT", "20261120080000+0000", "20261120090000+0000", "HM", "F") +
      "OBX|1|NM|718-7^Haemoglobin^LN||95|g/L|130-170|LL|||F\r"
      "NTE|1||Please repeat in 2 weeks\r"
      "OBX|2|NM|6690-2^White cell count^LN||7.2|10*9/L|4.0-11.0|N|||F\r");
  ASSERT_EQ(resources.size(), 3u);
  const auto& report = resources[0];
  EXPECT_EQ(report.type, "DiagnosticReport");
  EXPECT_EQ(report.nhs_number, "9434765919");
  EXPECT_EQ(report.status, "final");
  EXPECT_EQ(report.category, "HM");
  EXPECT_EQ(report.code, "http://snomed.info/sct|26604007");
  EXPECT_EQ(report.effective, "2026-11-20T08:00:00Z");
  EXPECT_EQ(report.practice, "Y01234");
  EXPECT_TRUE(report.abnormal);
  EXPECT_TRUE(report.urgent);  // LL is critical
  const json r = json::parse(report.json);
  EXPECT_EQ(r["resourceType"], "DiagnosticReport");
  EXPECT_EQ(r["subject"]["identifier"]["value"], "9434765919");
  EXPECT_EQ(r["result"].size(), 2u);
  EXPECT_EQ(r["result"][0]["reference"], "Observation/" + resources[1].id);
  EXPECT_EQ(r["issued"], "2026-11-20T09:00:00Z");
  EXPECT_EQ(r["basedOn"][0]["identifier"]["value"], "PL1");

  const json hb = json::parse(resources[1].json);
  EXPECT_EQ(hb["valueQuantity"]["value"], 95);
  EXPECT_EQ(hb["valueQuantity"]["unit"], "g/L");
  EXPECT_EQ(hb["referenceRange"][0]["low"]["value"], 130);
  EXPECT_EQ(hb["referenceRange"][0]["high"]["value"], 170);
  EXPECT_EQ(hb["interpretation"][0]["coding"][0]["code"], "LL");
  EXPECT_EQ(hb["note"][0]["text"], "Please repeat in 2 weeks");
  EXPECT_EQ(hb["code"]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(resources[1].report_id, report.id);
  EXPECT_TRUE(resources[1].urgent);
  EXPECT_FALSE(resources[2].abnormal);
}

TEST(OruMapping, StructuredNumericsTextAndCodedValues) {
  auto resources = Map(
      Obr("", "FL2", "UE^Urea and electrolytes^L", "20261120080000+0000", "", "CH", "F") +
      "OBX|1|SN|33914-3^eGFR^LN||>^90|mL/min/1.73m2||N|||F\r"
      "OBX|2|SN|XRATIO^Titre^L||^1^:^128|||A|||F\r"
      "OBX|3|SN|XRANGE^Range^L||^10^-^20|||||F\r"
      "OBX|4|TX|MICRO^Culture^L||Growth of E. coli~Sensitive to amoxicillin||||||F\r"
      "OBX|5|CWE|ORG^Organism^L||112283007^Escherichia coli^SCT||||||F\r");
  ASSERT_EQ(resources.size(), 6u);
  EXPECT_EQ(json::parse(resources[1].json)["valueQuantity"]["comparator"], ">");
  EXPECT_EQ(json::parse(resources[1].json)["valueQuantity"]["value"], 90);
  EXPECT_EQ(json::parse(resources[2].json)["valueRatio"]["denominator"]["value"], 128);
  EXPECT_EQ(json::parse(resources[3].json)["valueRange"]["high"]["value"], 20);
  EXPECT_EQ(json::parse(resources[4].json)["valueString"], "Growth of E. coli\nSensitive to amoxicillin");
  EXPECT_EQ(json::parse(resources[5].json)["valueCodeableConcept"]["coding"][0]["code"], "112283007");
  EXPECT_EQ(resources[0].code, "urn:dxhub:local:L|UE");
  EXPECT_TRUE(resources[0].abnormal);
  EXPECT_FALSE(resources[0].urgent);
}

TEST(OruMapping, ACorrectionKeepsTheReportAndObservationIds) {
  auto first = Map(Obr("", "FL3", "718-7^Hb^LN", "20261120080000+0000", "", "", "F") +
                   "OBX|1|NM|718-7^Hb^LN||95|g/L|||||F\r");
  auto corrected = Map(Obr("", "FL3", "718-7^Hb^LN", "20261120080000+0000", "", "", "C") +
                       "OBX|1|NM|718-7^Hb^LN||125|g/L|||||C\r");
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(corrected.size(), 2u);
  EXPECT_EQ(first[0].id, corrected[0].id);
  EXPECT_EQ(first[1].id, corrected[1].id);
  EXPECT_EQ(corrected[0].status, "corrected");
  EXPECT_EQ(corrected[1].status, "corrected");
  auto other = Map(Obr("", "FL4", "718-7^Hb^LN", "20261120080000+0000", "", "", "F"));
  EXPECT_NE(other[0].id, first[0].id);  // another order, another report
}

// kOrdered: a laboratory's reports, numbered in sequence, get ids in the same
// order, so the store's index of ids grows at its end.
TEST(OruMapping, OrderedIdsFollowTheLaboratorysOrderNumbers) {
  std::vector<std::string> ids;
  for (const char* filler : {"FL1000", "FL1001", "FL1002", "FL1010"}) {
    auto report = Map(Obr("", filler, "718-7^Hb^LN", "20261120080000+0000", "", "", "F") +
                      "OBX|1|NM|718-7^Hb^LN||140|g/L|130-170|N|||F\r");
    ASSERT_EQ(report.size(), 2u);
    EXPECT_EQ(report[1].id.rfind(report[0].id + "-", 0), 0u);  // the observation follows its report
    ids.push_back(report[0].id);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(ids[0].substr(0, 12), "lab-" + ids[1].substr(4, 6) + "-f");
  EXPECT_NE(Map(Obr("", "FL1000", "UE^U and E^L", "20261120080000+0000", "", "", "F"))[0].id, ids[0]);
  // Any order number gives a valid FHIR id, and two numbers never share one.
  const std::regex fhir_id("[A-Za-z0-9\\-\\.]{1,64}");
  std::set<std::string> distinct;
  for (const char* filler : {"A-1", "A.1", "A_1", "A 1", "A\\S\\1", "A.2D1", "\xC3\xA9" "1"}) {
    auto report = Map(Obr("", filler, "718-7^Hb^LN", "20261120080000+0000", "", "", "F") +
                      "OBX|12|NM|718-7^Hb^LN||140|g/L|130-170|N|||F\r");
    ASSERT_EQ(report.size(), 2u) << filler;
    EXPECT_TRUE(std::regex_match(report[0].id, fhir_id)) << report[0].id;
    EXPECT_TRUE(std::regex_match(report[1].id, fhir_id)) << report[1].id;
    distinct.insert(report[0].id);
  }
  EXPECT_EQ(distinct.size(), 7u);
  // A number too long for a FHIR id gets the hashed id.
  const std::string body = Obr("", std::string(60, '7'), "718-7^Hb^LN", "20261120080000+0000", "", "", "F");
  EXPECT_EQ(Map(body)[0].id, Map(body, storage::ResourceIds::kHashed)[0].id);
}

// kHashed is how every result was stored before kOrdered: the ids must not change,
// or a correction would not find the result it corrects. (The id below is the one
// an earlier build gave this message.)
TEST(OruMapping, HashedIdsAreTheIdsEarlierBuildsGave) {
  const std::string message =
      "MSH|^~\\&|BENCHLAB|RBZ|GP|Y01234|20261120093000+0000||ORU^R01^ORU_R01|B0-0|P|2.4\r"
      "PID|1||9000000009^^^NHS^NH||SMITH^JOHN||19600101|M\r"
      "OBR|1|PB0-0|FB0-0|26604007^Full blood count^SCT|||20261120080000+0000|||||||||||||||||HM|F\r"
      "OBX|9|NM|731-0^Analyte^LN||100|g/L|90-160|N|||F\r";
  auto m = hl7::Message::Parse(message);
  ASSERT_TRUE(m);
  auto out = MapOru(*m, "BENCHLAB|RBZ", storage::ResourceIds::kHashed);
  ASSERT_TRUE(out) << out.error().text;
  ASSERT_EQ(out->resources.size(), 2u);
  EXPECT_EQ(out->resources[0].id, "lab-e389c6e46b0ff6a8ad832f06");
  EXPECT_EQ(out->resources[1].id, "lab-e389c6e46b0ff6a8ad832f06-9");
}

TEST(OruMapping, EachReportNamesTheRequestItAnswers) {
  auto m = hl7::Message::Parse(kHeader + "ORC|RE|ORCPL|ORCFL\r" +
                               Obr("", "", "718-7^Hb^LN", "20261120080000+0000", "", "", "P") +
                               Obr("PL9", "ACC9", "UE^U and E^L", "20261120080000+0000", "", "", "F"));
  ASSERT_TRUE(m);
  auto out = MapOru(*m, "WINPATH|RBZ", storage::ResourceIds::kOrdered);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->reports.size(), 2u);
  EXPECT_EQ(out->reports[0].report_id, out->resources[0].id);
  EXPECT_EQ(out->reports[0].placer, "ORCPL");  // from the ORC when the OBR has none
  EXPECT_EQ(out->reports[0].filler, "ORCFL");
  EXPECT_EQ(out->reports[0].status, "preliminary");
  EXPECT_EQ(out->reports[1].report_id, out->resources[1].id);
  EXPECT_EQ(out->reports[1].placer, "PL9");
  EXPECT_EQ(out->reports[1].filler, "ACC9");
  EXPECT_EQ(out->reports[1].status, "final");
  EXPECT_EQ(out->reports[1].nhs_number, "9434765919");
}

TEST(OruMapping, ProblemsNameTheSegmentAndField) {
  const std::string msh = "MSH|^~\\&|WINPATH|RBZ|GPSYS|Y01234|20261120093000||ORU^R01|M1|P|2.4\r";
  const std::string obr = "OBR|1||FL1|718-7^Hb^LN\r";
  EXPECT_EQ(Problem(msh + obr).location, "PID");
  EXPECT_EQ(Problem(msh + "PID|1||123^^^RBZ^MR\r" + obr).condition, hl7::ErrorCondition::kRequiredFieldMissing);
  auto invalid = Problem(msh + "PID|1||9434765918^^^NHS^NH\r" + obr);
  EXPECT_EQ(invalid.condition, hl7::ErrorCondition::kDataTypeError);
  EXPECT_EQ(invalid.location, "PID^1^3");
  EXPECT_EQ(invalid.text.find("9434765918"), std::string::npos);  // no identifier in the answer
  const std::string pid = "PID|1||9434765919^^^NHS^NH\r";
  EXPECT_EQ(Problem(msh + pid).location, "OBR");
  EXPECT_EQ(Problem(msh + pid + obr + "OBX|1|NM|718-7^Hb^LN||high|g/L\r").location, "OBX^1^5");
  EXPECT_EQ(Problem(msh + pid + obr + "OBX|1|ED|X^Y^L||data\r").location, "OBX^1^2");
  EXPECT_EQ(Problem(msh + pid + obr + "OBX|1|NM|718-7^Hb^LN||1|g/L||ZZ\r").location, "OBX^1^8");
  EXPECT_EQ(Problem(msh + pid + Obr("", "FL1", "718-7^Hb^LN", "", "", "", "Q")).location, "OBR^1^25");
  EXPECT_EQ(Problem(msh + pid + "OBX|1|NM|718-7^Hb^LN||1\r").condition, hl7::ErrorCondition::kSegmentSequence);
}

TEST(OruMapping, TextThatIsNotUtf8IsReplacedNotFatal) {
  auto resources = Map(Obr("", "FL5", "MICRO^Culture^L", "20261120", "", "MB", "F") +
                       "OBX|1|ST|MICRO^Culture^L||Caf\xe9 \xff\xfe growth||||||F\r");
  ASSERT_EQ(resources.size(), 2u);
  const json obs = json::parse(resources[1].json);  // valid JSON, so valid UTF-8
  EXPECT_NE(obs["valueString"].get<std::string>().find("growth"), std::string::npos);
}

TEST(OruMapping, TimesBecomeUtc) {
  EXPECT_EQ(FhirDateTime("20261120093000+0100"), "2026-11-20T08:30:00Z");
  EXPECT_EQ(FhirDateTime("202611200930-0500"), "2026-11-20T14:30:00Z");
  EXPECT_EQ(FhirDateTime("20261120"), "2026-11-20");
  EXPECT_EQ(FhirDateTime("202611"), "2026-11");
  EXPECT_EQ(FhirDateTime("20261120093000.1234+0000"), "2026-11-20T09:30:00Z");
  EXPECT_EQ(FhirDateTime("2026112"), "");
  EXPECT_EQ(FhirDateTime("20261320"), "");
  EXPECT_EQ(FhirDateTime("yesterday"), "");
}

}  // namespace
}  // namespace dx::results
