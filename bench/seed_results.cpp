// Fills a result store with synthetic laboratory results for the FHIR search
// benchmark: `dxhub_seed_results DATA_DIR OBSERVATIONS` writes full blood counts
// (one DiagnosticReport with ten Observations each) into DATA_DIR/index.sqlite
// through the same ResultStore::StoreMessage the HL7 listener uses, for 20,000
// patients (valid NHS numbers), dates over two years. Prints the NHS number of the
// last report, for the benchmark's queries.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "storage/sqlite/sqlite_result_store.hpp"

namespace {

// A valid NHS number from nine digits (Modulus 11), or "" when the check digit would be 10.
std::string NhsNumber(std::mt19937_64& random) {
  std::string digits;
  int sum = 0;
  for (int i = 0; i < 9; ++i) {
    const int d = i == 0 ? 4 + static_cast<int>(random() % 5) : static_cast<int>(random() % 10);
    digits += static_cast<char>('0' + d);
    sum += d * (10 - i);
  }
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return "";
  return digits + static_cast<char>('0' + check);
}

struct Analyte {
  const char* loinc;
  const char* name;
  const char* unit;
  double low, high;
};

const Analyte kFullBloodCount[] = {
    {"718-7", "Haemoglobin", "g/L", 130, 170},        {"6690-2", "White cell count", "10*9/L", 4, 11},
    {"777-3", "Platelets", "10*9/L", 150, 400},       {"789-8", "Red cell count", "10*12/L", 4.5, 5.5},
    {"4544-3", "Haematocrit", "L/L", 0.4, 0.5},       {"787-2", "Mean cell volume", "fL", 83, 101},
    {"785-6", "Mean cell haemoglobin", "pg", 27, 32}, {"751-8", "Neutrophils", "10*9/L", 2, 7},
    {"731-0", "Lymphocytes", "10*9/L", 1, 3},         {"742-7", "Monocytes", "10*9/L", 0.2, 1}};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR OBSERVATIONS\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const long observations = std::atol(argv[2]);
  std::filesystem::create_directories(dir);
  auto store = dx::storage::SqliteResultStore::Open((dir / "index.sqlite").string(), false);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  std::mt19937_64 random(20261123);
  std::vector<std::string> patients;
  while (patients.size() < 20000) {
    if (auto nhs = NhsNumber(random); !nhs.empty()) patients.push_back(nhs);
  }
  const long reports = observations / 10;
  std::string last;
  const std::size_t batch_size = getenv("SEED_BATCH") ? std::strtoul(getenv("SEED_BATCH"), nullptr, 10) : 500;
  std::vector<dx::storage::IncomingMessage> batch;
  for (long r = 0; r < reports; ++r) {
    const std::string& nhs = patients[static_cast<std::size_t>(random() % patients.size())];
    last = nhs;
    const int day = static_cast<int>(random() % 730);
    std::tm when{};
    when.tm_year = 124;
    when.tm_mday = 1 + day;
    when.tm_hour = 8 + static_cast<int>(random() % 10);
    const std::time_t seconds = timegm(&when);
    char effective[32];
    std::strftime(effective, sizeof effective, "%Y-%m-%dT%H:%M:%SZ", gmtime(&seconds));
    const std::string report_id = fmt::format("seed-{}", r);
    std::vector<dx::storage::ResourceRecord> resources;
    bool abnormal = false;
    for (int a = 0; a < 10; ++a) {
      const auto& analyte = kFullBloodCount[a];
      const double span = analyte.high - analyte.low;
      const double value = analyte.low - 0.2 * span + 1.4 * span * static_cast<double>(random() % 1000) / 1000.0;
      const bool flagged = value < analyte.low || value > analyte.high;
      abnormal = abnormal || flagged;
      dx::storage::ResourceRecord o;
      o.type = "Observation";
      o.id = fmt::format("{}-{}", report_id, a + 1);
      o.nhs_number = nhs;
      o.status = "final";
      o.category = "laboratory";
      o.code = fmt::format("http://loinc.org|{}", analyte.loinc);
      o.effective = effective;
      o.report_id = report_id;
      o.abnormal = flagged;
      o.json = fmt::format(
          R"({{"resourceType":"Observation","id":"{}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"{}","display":"{}"}}]}},"subject":{{"identifier":{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{}"}}}},"effectiveDateTime":"{}","valueQuantity":{{"value":{:.2f},"unit":"{}","system":"http://unitsofmeasure.org","code":"{}"}},"referenceRange":[{{"low":{{"value":{}}},"high":{{"value":{}}}}}]{}}})",
          o.id, analyte.loinc, analyte.name, nhs, effective, value, analyte.unit, analyte.unit, analyte.low, analyte.high,
          flagged ? R"(,"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"A"}]}])" : "");
      resources.push_back(std::move(o));
    }
    dx::storage::ResourceRecord report;
    report.type = "DiagnosticReport";
    report.id = report_id;
    report.nhs_number = nhs;
    report.status = "final";
    report.category = "HM";
    report.code = "http://snomed.info/sct|26604007";
    report.effective = effective;
    report.practice = fmt::format("Y{:05}", random() % 500);
    report.abnormal = abnormal;
    report.json = fmt::format(
        R"({{"resourceType":"DiagnosticReport","id":"{}","status":"final","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"26604007","display":"Full blood count"}}]}},"subject":{{"identifier":{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{}"}}}},"effectiveDateTime":"{}"}})",
        report_id, nhs, effective);
    resources.insert(resources.begin(), std::move(report));
    dx::storage::MessageRecord message{"SEEDLAB|SEED", fmt::format("seed-{}", r), "ORU^R01", effective, ""};
    batch.push_back({message, "", std::move(resources)});
    if (batch.size() == batch_size || r + 1 == reports) {
      if (auto stored = (*store)->StoreMessages(batch); !stored) {
        std::fprintf(stderr, "%s\n", stored.error().message.c_str());
        return 1;
      }
      batch.clear();
    }
  }
  std::printf("%s\n", last.c_str());
  return 0;
}
