#include "fhir/search.hpp"

#include <gtest/gtest.h>

#include "fhir/routes.hpp"

namespace dx::fhir {
namespace {

using Query = std::multimap<std::string, std::string>;
using Bounds = std::vector<std::pair<std::string, std::string>>;

TEST(FhirDates, EachPrecisionCoversItsInterval) {
  EXPECT_EQ(DateRange("2026"), std::make_pair(std::string("2026"), std::string("2027")));
  EXPECT_EQ(DateRange("2026-12"), std::make_pair(std::string("2026-12"), std::string("2027-01")));
  EXPECT_EQ(DateRange("2026-02-28"), std::make_pair(std::string("2026-02-28"), std::string("2026-03-01")));
  EXPECT_EQ(DateRange("2026-11-20T09:30:00Z"),
            std::make_pair(std::string("2026-11-20T09:30:00Z"), std::string("2026-11-20T09:30:01Z")));
  // An offset is converted to UTC; minutes precision covers the minute.
  EXPECT_EQ(DateRange("2026-06-01T00:30+01:00"),
            std::make_pair(std::string("2026-05-31T23:30:00Z"), std::string("2026-05-31T23:31:00Z")));
  for (const char* bad : {"", "26", "2026-13", "2026-02-30", "2026-11-20T25:00Z", "yesterday", "2026-11-20 09:30"}) {
    EXPECT_FALSE(DateRange(bad)) << bad;
  }
}

TEST(FhirSearch, ParsesEverySupportedParameter) {
  auto search = ParseSearch("DiagnosticReport", Query{{"patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"},
                                                      {"status", "final,corrected"},
                                                      {"category", "http://terminology.hl7.org/CodeSystem/v2-0074|HM"},
                                                      {"date", "ge2026-11-01"},
                                                      {"date", "lt2026-12"},
                                                      {"_sort", "-date"},
                                                      {"_count", "10"},
                                                      {"_offset", "20"}});
  ASSERT_TRUE(search) << search.error().message;
  EXPECT_EQ(search->nhs_number, "9434765919");
  EXPECT_EQ(search->statuses, (std::vector<std::string>{"final", "corrected"}));
  EXPECT_EQ(search->categories, (std::vector<std::string>{"HM"}));
  EXPECT_EQ(search->effective, (Bounds{{">=", "2026-11-01"}, {"<", "2026-12"}}));
  EXPECT_TRUE(search->sort_descending);
  EXPECT_EQ(search->sort_by, "effective");
  EXPECT_EQ(search->count, 10);
  EXPECT_EQ(search->offset, 20);
}

TEST(FhirSearch, DatePrefixesMapToBounds) {
  auto bounds = [](const std::string& value) {
    auto search = ParseSearch("Observation", Query{{"date", value}});
    EXPECT_TRUE(search) << value;
    return search ? search->effective : Bounds{};
  };
  EXPECT_EQ(bounds("2026-11-20"), (Bounds{{">=", "2026-11-20"}, {"<", "2026-11-21"}}));
  EXPECT_EQ(bounds("eq2026-11-20"), (Bounds{{">=", "2026-11-20"}, {"<", "2026-11-21"}}));
  EXPECT_EQ(bounds("gt2026-11-20"), (Bounds{{">=", "2026-11-21"}}));
  EXPECT_EQ(bounds("le2026-11-20"), (Bounds{{"<", "2026-11-21"}}));
  EXPECT_EQ(bounds("lt2026-11-20"), (Bounds{{"<", "2026-11-20"}}));
}

TEST(FhirSearch, DefaultsAreNewestFirstFiftyAPage) {
  auto search = ParseSearch("Observation", Query{});
  ASSERT_TRUE(search);
  EXPECT_EQ(search->count, kDefaultCount);
  EXPECT_TRUE(search->sort_descending);
  EXPECT_EQ(search->type, "Observation");
}

TEST(FhirSearch, BadParametersAreRefusedByName) {
  auto refused = [](const Query& query) {
    auto search = ParseSearch("DiagnosticReport", query);
    EXPECT_FALSE(search);
    return search ? std::string() : search.error().parameter;
  };
  EXPECT_EQ(refused({{"patient.identifier", "9434765919"}}), "patient.identifier");  // no system
  EXPECT_EQ(refused({{"patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765918"}}), "patient.identifier");
  EXPECT_EQ(refused({{"patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"},
                     {"patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|4010232137"}}),
            "patient.identifier");
  EXPECT_EQ(refused({{"status", "done"}}), "status");
  EXPECT_EQ(refused({{"date", "sa2026-11-20"}}), "date");
  EXPECT_EQ(refused({{"date", "2026-99"}}), "date");
  EXPECT_EQ(refused({{"_count", "1001"}}), "_count");
  EXPECT_EQ(refused({{"_count", "ten"}}), "_count");
  EXPECT_EQ(refused({{"_offset", "-1"}}), "_offset");
  EXPECT_EQ(refused({{"_sort", "status"}}), "_sort");
  EXPECT_EQ(refused({{"_format", "xml"}}), "_format");
  EXPECT_EQ(refused({{"code", "|"}}), "code");
  EXPECT_EQ(refused({{"patient", "123"}}), "patient");  // unsupported: never silently ignored
  auto message = ParseSearch("DiagnosticReport", Query{{"status", "done"}});
  EXPECT_NE(message.error().message.find("done"), std::string::npos);
}

TEST(FhirMeta, MetaGoesAfterTheResourceType) {
  storage::StoredResource stored;
  stored.record.type = "Observation";
  stored.record.json = R"({"resourceType":"Observation","id":"o1","status":"final"})";
  stored.version = 3;
  stored.last_updated = "2026-11-23T10:00:00Z";
  EXPECT_EQ(WithMeta(stored),
            R"({"resourceType":"Observation","meta":{"versionId":"3","lastUpdated":"2026-11-23T10:00:00Z"},"id":"o1","status":"final"})");
}

}  // namespace
}  // namespace dx::fhir
