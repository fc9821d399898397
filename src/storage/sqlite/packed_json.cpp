#include "storage/sqlite/packed_json.hpp"

#include <lz4.h>

#include <cstdint>
#include <cstring>

namespace dx::storage::sqlite {

namespace {

// Dictionary 1: text that every packed value may refer back to as if it came just
// before. It holds the JSON dxhub writes from ORU^R01 (results/oru.cpp): the
// keys, code systems and shapes of a DiagnosticReport and of Observations of each
// value type, with the values left empty; the commonest shapes come last, where
// references are shortest. Never change it: stored values need it to be read.
constexpr std::string_view kDictionary1 =
    R"({"resourceType":"DiagnosticReport","id":"lab-","status":"final","identifier":[{"type":{"text":"Placer order number"},"system":"urn:dxhub:placer-order","value":""},{"type":{"text":"Filler order number"},"system":"urn:dxhub:filler-order:","value":""}],"basedOn":[{"type":"ServiceRequest","identifier":{"system":"urn:dxhub:placer-order","value":""}}],"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"CH"}]}],"code":{"coding":[{"system":"http://snomed.info/sct","code":"","display":""}],"text":""},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""},"display":""},"effectiveDateTime":"","issued":"","performer":[{"display":""}],"conclusion":"","result":[{"reference":"Observation/lab-"},{"reference":"Observation/lab-"}]})"
    R"({"resourceType":"Observation","id":"lab-","status":"preliminary","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://read.info/readv2","code":"","display":""}],"text":""},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""},"display":""},"effectiveDateTime":"","valueString":"","note":[{"text":""}]})"
    R"({"resourceType":"Observation","id":"lab-","status":"corrected","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"","display":""}],"text":""},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""},"display":""},"effectiveDateTime":"","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"","display":""}],"text":""},"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"POS"}]}]})"
    R"({"resourceType":"Observation","id":"lab-","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"","display":""}],"text":""},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""},"display":""},"effectiveDateTime":"","valueRatio":{"numerator":{"value":1},"denominator":{"value":1}},"valueRange":{"low":{"value":1},"high":{"value":1}},"valueQuantity":{"value":1,"comparator":"<","unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H"}]}]})"
    R"({"resourceType":"Observation","id":"lab-","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"","display":""}],"text":""},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""},"display":""},"effectiveDateTime":"","valueQuantity":{"value":1,"unit":"","system":"http://unitsofmeasure.org","code":""},"referenceRange":[{"low":{"value":1,"unit":"","system":"http://unitsofmeasure.org","code":""},"high":{"value":1,"unit":"","system":"http://unitsofmeasure.org","code":""},"text":""}],"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"N"}]}]})";

constexpr std::size_t kHeaderBytes = 5;  // kPackedFormat, then the length
// SQLite's largest value (SQLITE_MAX_LENGTH), well under LZ4's largest block.
constexpr std::size_t kMaxJsonBytes = 1'000'000'000;

}  // namespace

// lz4.h offers two ways to compress many inputs against one dictionary: load it
// before each, or load it once and copy that stream before each. The copy (16 KB)
// is the cheaper. The no-copy LZ4_attach_dictionary is only in the static library,
// and saved about 0.1 µs a resource when measured: not worth linking it statically.
struct JsonPacker::Streams {
  LZ4_stream_t with_dictionary;
  LZ4_stream_t working;
  Streams() {
    LZ4_initStream(&with_dictionary, sizeof with_dictionary);
    LZ4_loadDict(&with_dictionary, kDictionary1.data(), static_cast<int>(kDictionary1.size()));
  }
};

JsonPacker::JsonPacker() : streams_(std::make_unique<Streams>()) {}
JsonPacker::~JsonPacker() = default;

Result<std::string> JsonPacker::Pack(std::string_view json) {
  if (json.size() > kMaxJsonBytes) return Fail(ErrorCode::kStorage, "a resource is too large to store");
  const int json_bytes = static_cast<int>(json.size());
  std::string packed(kHeaderBytes + static_cast<std::size_t>(LZ4_compressBound(json_bytes)), '\0');
  packed[0] = kPackedFormat;
  const auto length = static_cast<std::uint32_t>(json.size());
  for (int i = 0; i < 4; ++i) packed[1 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  std::memcpy(&streams_->working, &streams_->with_dictionary, sizeof(LZ4_stream_t));
  const int block_bytes = LZ4_compress_fast_continue(&streams_->working, json.data(), packed.data() + kHeaderBytes,
                                                     json_bytes, static_cast<int>(packed.size() - kHeaderBytes), 1);
  // With room for LZ4_compressBound, compression cannot fail.
  packed.resize(kHeaderBytes + static_cast<std::size_t>(block_bytes));
  return packed;
}

Result<std::string> UnpackJson(std::string_view packed) {
  if (packed.size() < kHeaderBytes || packed[0] != kPackedFormat) {
    return Fail(ErrorCode::kStorage, "a stored resource is in an unknown format");
  }
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= static_cast<std::uint32_t>(static_cast<unsigned char>(packed[1 + i])) << (8 * i);
  if (length > kMaxJsonBytes) return Fail(ErrorCode::kStorage, "a stored resource is damaged: its length is wrong");
  std::string json(length, '\0');
  const int written = LZ4_decompress_safe_usingDict(
      packed.data() + kHeaderBytes, json.data(), static_cast<int>(packed.size() - kHeaderBytes),
      static_cast<int>(length), kDictionary1.data(), static_cast<int>(kDictionary1.size()));
  if (written < 0 || static_cast<std::uint32_t>(written) != length) {
    return Fail(ErrorCode::kStorage, "a stored resource is damaged: its data do not decompress");
  }
  return json;
}

}  // namespace dx::storage::sqlite
