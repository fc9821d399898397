#include "orders/service_request.hpp"

#include <gtest/gtest.h>

#include "cds/loader.hpp"

namespace dx::orders {
namespace {

using nlohmann::json;

const cds::KnowledgeBase& Knowledge() {
  static const cds::KnowledgeBase knowledge = [] {
    auto loaded = cds::LoadKnowledgeBase(std::string(DX_SOURCE_DIR) + "/knowledge");
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
  }();
  return knowledge;
}

const TestCatalogue& Catalogue() {
  static const TestCatalogue catalogue = [] {
    auto loaded = TestCatalogue::Load(std::string(DX_SOURCE_DIR) + "/knowledge", Knowledge());
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
  }();
  return catalogue;
}

constexpr std::int64_t kNow = 1795000000;  // 2026-11-18

json Request() {
  return json::parse(R"({
    "resourceType": "ServiceRequest", "status": "active", "intent": "order", "priority": "urgent",
    "contained": [
      {"resourceType": "Patient", "id": "p",
       "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
       "name": [{"family": "Smith", "given": ["Jane", "Ann"]}], "birthDate": "1970-03-04", "gender": "female"},
      {"resourceType": "PractitionerRole", "id": "r",
       "practitioner": {"identifier": {"value": "G1234567"}, "display": "Dr A Jones"},
       "organization": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"}}}],
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "169069000"}]},
    "subject": {"reference": "#p"}, "requester": {"reference": "#r"},
    "performer": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RXX01"}}],
    "authoredOn": "2026-11-17T10:00:00+01:00",
    "reasonCode": [{"text": "haemoptysis"}],
    "category": [{"coding": [{"system": "https://fhir.dxhub.org/CodeSystem/request-pathway", "code": "two-week-wait"}]}],
    "extension": [{"url": "https://fhir.dxhub.org/StructureDefinition/decision-support",
                   "extension": [{"url": "rule", "valueString": "NG12-LUNG-CT"}, {"url": "score", "valueInteger": 8},
                                 {"url": "overridden", "valueBoolean": true},
                                 {"url": "overrideReason", "valueString": "CXR normal, high suspicion"}]}]
  })");
}

TEST(ServiceRequest, ReadsAValidRequest) {
  RequestProblem problem;
  auto order = ReadServiceRequest(Request(), Catalogue(), kNow, &problem);
  ASSERT_TRUE(order) << problem.message << " at " << problem.location;
  EXPECT_EQ(order->nhs_number, "9434765919");
  EXPECT_EQ(order->patient_name, "SMITH^JANE ANN");
  EXPECT_EQ(order->birth_date, "19700304");
  EXPECT_EQ(order->sex, "F");
  EXPECT_EQ(order->requester, "G1234567");
  EXPECT_EQ(order->practice, "A81001");
  EXPECT_EQ(order->performer_site, "RXX01");
  EXPECT_EQ(order->code, "CT-CHEST");  // from its SNOMED CT concept
  EXPECT_EQ(order->modality, "CT");
  EXPECT_EQ(order->test_group, "CT");
  EXPECT_EQ(order->priority, "two-week-wait");
  EXPECT_EQ(order->stage, "requested");
  EXPECT_EQ(order->requested_at, *ParseInstant("2026-11-17T09:00:00Z"));
  EXPECT_EQ(order->clock_start, order->requested_at);
  const json details = json::parse(order->details);
  EXPECT_EQ(details["decisionSupport"]["rule"], "NG12-LUNG-CT");
  EXPECT_EQ(details["decisionSupport"]["overridden"], true);
  EXPECT_EQ(details["reasonCode"][0]["text"], "haemoptysis");
}

TEST(ServiceRequest, WritesBackWhatWasRead) {
  auto order = ReadServiceRequest(Request(), Catalogue(), kNow, nullptr);
  ASSERT_TRUE(order);
  order->id = "abc";
  order->version = 3;
  order->accession_number = "DX123";
  const json out = WriteServiceRequest(*order);
  EXPECT_EQ(out["resourceType"], "ServiceRequest");
  EXPECT_EQ(out["status"], "active");
  EXPECT_EQ(out["priority"], "urgent");
  EXPECT_EQ(out["meta"]["versionId"], "3");
  EXPECT_EQ(out["code"]["coding"][0]["code"], "CT-CHEST");
  EXPECT_EQ(out["subject"]["identifier"]["value"], "9434765919");
  EXPECT_EQ(out["identifier"][0]["value"], "DX123");
  EXPECT_EQ(out["category"][0]["coding"][0]["code"], "two-week-wait");
  EXPECT_EQ(out["contained"][0]["birthDate"], "1970-03-04");
  // Read again, the written resource gives the same request.
  auto again = ReadServiceRequest(out, Catalogue(), kNow, nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->nhs_number, order->nhs_number);
  EXPECT_EQ(again->code, order->code);
  EXPECT_EQ(again->priority, order->priority);
  EXPECT_EQ(again->practice, order->practice);
  EXPECT_EQ(again->requested_at, order->requested_at);
}

struct Bad {
  const char* name;
  std::function<void(json&)> spoil;
  const char* location;
  const char* words;
};

TEST(ServiceRequest, BadRequestsNameTheProblemAndWhere) {
  const std::vector<Bad> cases = {
      {"invalid NHS number", [](json& r) { r["contained"][0]["identifier"][0]["value"] = "9434765918"; },
       "ServiceRequest.contained.Patient.identifier", "Modulus 11"},
      {"unknown test code", [](json& r) { r["code"]["coding"][0] = {{"system", kInvestigationSystem}, {"code", "MR-ELBOW-XYZ"}}; },
       "ServiceRequest.code.coding", "unknown test code"},
      {"a referral is not a test", [](json& r) { r["code"]["coding"][0] = {{"system", kInvestigationSystem}, {"code", "REF-ED"}}; },
       "ServiceRequest.code.coding", "not a test"},
      {"unknown patient", [](json& r) { r["subject"] = {{"reference", "Patient/123"}}; }, "ServiceRequest.subject",
       "unknown patient"},
      {"no practice", [](json& r) { r["contained"][1].erase("organization"); },
       "ServiceRequest.contained.PractitionerRole.organization", "ods-organization-code"},
      {"no performing site", [](json& r) { r.erase("performer"); }, "ServiceRequest.performer", "performing site"},
      {"future authoredOn", [](json& r) { r["authoredOn"] = "2027-01-01T00:00:00Z"; }, "ServiceRequest.authoredOn",
       "future"},
      {"authoredOn without a zone", [](json& r) { r["authoredOn"] = "2026-11-17T10:00:00"; }, "ServiceRequest.authoredOn",
       "not a dateTime"},
      {"draft", [](json& r) { r["status"] = "draft"; }, "ServiceRequest.status", "draft"},
      {"unknown priority", [](json& r) { r["priority"] = "whenever"; }, "ServiceRequest.priority", "whenever"},
      {"override without reason",
       [](json& r) { r["extension"][0]["extension"].erase(3); }, "ServiceRequest.extension", "without a reason"},
      {"not a ServiceRequest", [](json& r) { r["resourceType"] = "Patient"; }, "ServiceRequest.resourceType",
       "not a ServiceRequest"},
  };
  for (const auto& bad : cases) {
    json request = Request();
    bad.spoil(request);
    RequestProblem problem;
    auto order = ReadServiceRequest(request, Catalogue(), kNow, &problem);
    ASSERT_FALSE(order) << bad.name;
    EXPECT_EQ(order.error().code, ErrorCode::kInvalidInput) << bad.name;
    EXPECT_EQ(problem.location, bad.location) << bad.name;
    EXPECT_NE(problem.message.find(bad.words), std::string::npos) << bad.name << ": " << problem.message;
    EXPECT_EQ(problem.message.find("9434765918"), std::string::npos) << "an invalid NHS number is never echoed";
  }
}

TEST(ServiceRequest, Instants) {
  EXPECT_EQ(ParseInstant("1970-01-02"), 86400);
  EXPECT_EQ(ParseInstant("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseInstant("1970-01-01T00:00:10.250Z"), 10);
  EXPECT_FALSE(ParseInstant("2026-02-30"));
  EXPECT_FALSE(ParseInstant("2026-13-01"));
  EXPECT_FALSE(ParseInstant("yesterday"));
  EXPECT_EQ(FormatInstant(86400 + 3661), "1970-01-02T01:01:01Z");
}

TEST(Catalogue, Dm01GroupsComeFromDataByCodeThenModality) {
  EXPECT_EQ(Catalogue().FindCode("MR-KNEE")->test_group, "MRI");
  EXPECT_EQ(Catalogue().FindCode("US-AORTA")->test_group, "NOUS");
  EXPECT_EQ(Catalogue().FindCode("ECHO-TTE")->test_group, "ECHO");
  EXPECT_EQ(Catalogue().FindCode("ECHO-TTE")->modality, "US");
  EXPECT_EQ(Catalogue().FindCode("ENDO-OGD")->test_group, "GASTRO");
  EXPECT_EQ(Catalogue().FindCode("PHYS-NCS")->test_group, "NEURO");
  EXPECT_EQ(Catalogue().FindCode("XR-CHEST")->test_group, "");  // plain film is outside DM01
  EXPECT_EQ(Catalogue().groups().size(), 15u);
  EXPECT_FALSE(Catalogue().FindCode("NO-SUCH"));
}

}  // namespace
}  // namespace dx::orders
