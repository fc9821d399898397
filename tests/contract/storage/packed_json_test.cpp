// The stored form of resource JSON in SQLite (storage/sqlite/packed_json.hpp):
// anything round-trips, results shrink, a damaged value is an error, and values
// packed by earlier builds still read.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "storage/sqlite/packed_json.hpp"

namespace dx::storage::sqlite {
namespace {

const std::string kObservation =
    R"({"resourceType":"Observation","id":"lab-6e0f3b1c9a2d4e5f60718293-4","status":"final","category":[{"coding":)"
    R"([{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":)"
    R"({"coding":[{"system":"http://loinc.org","code":"2823-3","display":"Potassium"}],"text":"Potassium"},)"
    R"("subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"},)"
    R"("display":"JONES, MARY"},"effectiveDateTime":"2026-11-21T10:15:00Z","valueQuantity":{"value":6.4,)"
    R"("unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},"referenceRange":[{"low":{"value":3.5,)"
    R"("unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},"high":{"value":5.3,"unit":"mmol/L",)"
    R"("system":"http://unitsofmeasure.org","code":"mmol/L"},"text":"3.5-5.3"}],"interpretation":[{"coding":)"
    R"([{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"HH"}]}]})";

// Hexadecimal text, which LZ4 finds nothing to shorten in.
std::string RandomHex(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string text(size, '0');
  for (auto& c : text) c = "0123456789abcdef"[random() % 16];
  return text;
}

std::string RoundTrip(const std::string& json) {
  JsonPacker packer;
  auto packed = packer.Pack(json);
  EXPECT_TRUE(packed) << packed.error().message;
  if (!packed) return "";
  auto unpacked = UnpackJson(*packed);
  EXPECT_TRUE(unpacked) << unpacked.error().message;
  return unpacked ? *unpacked : "";
}

TEST(PackedJson, AnyTextRoundTrips) {
  EXPECT_EQ(RoundTrip(""), "");
  EXPECT_EQ(RoundTrip(kObservation), kObservation);
  const std::string accented = R"({"note":[{"text":"Hémolysé — répéter l’échantillon 🩸"}]})";
  EXPECT_EQ(RoundTrip(accented), accented);
  // Longer than LZ4's 64 KB window, so later matches cannot reach the dictionary.
  const std::string large = R"({"valueString":")" + RandomHex(300'000, 7) + kObservation + "\"}";
  EXPECT_EQ(RoundTrip(large), large);
  const std::string binary("\0\x01\xff{}", 5);
  EXPECT_EQ(RoundTrip(binary), binary);
}

TEST(PackedJson, OnePackerPacksEachValueOnItsOwn) {
  JsonPacker packer;
  auto first = packer.Pack(kObservation);
  auto second = packer.Pack(kObservation);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);  // nothing carried over from the first value
}

TEST(PackedJson, AResultTakesAFractionOfItsBytes) {
  JsonPacker packer;
  auto packed = packer.Pack(kObservation);
  ASSERT_TRUE(packed);
  EXPECT_EQ((*packed)[0], kPackedFormat);
  EXPECT_LT(packed->size() * 3, kObservation.size()) << packed->size() << " of " << kObservation.size();
}

// Packed by the first build with packing: the dictionary must never change, or
// this and every stored value would no longer read.
TEST(PackedJson, ValuesPackedByEarlierBuildsStillRead) {
  const std::string stored(
      "\x01\x6c\x00\x00\x00\x0f\x01\x03\x15\x38\x31\x2d\x31\x46\x08\x04\x04\x03\x01\x55\x01\x0f\xc4\x01\x00\x26\x34"
      "\x2e\xc6\x01\x90\x6d\x6d\x6f\x6c\x2f\x4c\x22\x7d\x7d",
      40);
  auto json = UnpackJson(stored);
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(*json,
            R"({"resourceType":"Observation","id":"lab-1-1","status":"final","valueQuantity":{"value":4.1,)"
            R"("unit":"mmol/L"}})");
}

TEST(PackedJson, DamagedValuesAreErrorsNotCrashes) {
  JsonPacker packer;
  const std::string packed = *packer.Pack(kObservation);
  EXPECT_FALSE(UnpackJson(""));
  EXPECT_FALSE(UnpackJson(kObservation));                    // plain JSON is not packed
  EXPECT_FALSE(UnpackJson(packed.substr(0, 4)));             // no room for the length
  EXPECT_FALSE(UnpackJson(packed.substr(0, packed.size() / 2)));  // cut short
  std::string other_format = packed;
  other_format[0] = 2;
  EXPECT_FALSE(UnpackJson(other_format));
  std::string longer = packed;
  longer[1] = static_cast<char>(longer[1] + 1);  // one byte more than the block holds
  EXPECT_FALSE(UnpackJson(longer));
  std::string huge = packed;
  huge[4] = '\x7f';  // about 2 GB
  EXPECT_FALSE(UnpackJson(huge));
  EXPECT_FALSE(UnpackJson(std::string("\x01\x10\x00\x00\x00", 5) + RandomHex(64, 3)));  // not a block
}

}  // namespace
}  // namespace dx::storage::sqlite
