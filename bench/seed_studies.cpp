// Fills an archive index with synthetic studies for the C-FIND and QIDO-RS
// benchmarks: `dxhub_seed_studies DATA_DIR COUNT` writes COUNT one-instance
// studies into DATA_DIR/index.sqlite through the same InstanceIndex::InsertBatch
// the ingest pipeline uses. Names are drawn from common UK surnames and given
// names, two studies per patient, dates over five years. Blobs are not written:
// queries never read them.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_index.hpp"

namespace {

const char* const kSurnames[] = {
    "SMITH",    "JONES",   "TAYLOR",  "BROWN",   "WILLIAMS", "WILSON",  "JOHNSON", "DAVIES",  "ROBINSON", "WRIGHT",
    "THOMPSON", "EVANS",   "WALKER",  "WHITE",   "ROBERTS",  "GREEN",   "HALL",    "WOOD",    "JACKSON",  "CLARKE",
    "PATEL",    "KHAN",    "LEWIS",   "JAMES",   "PHILLIPS", "MASON",   "MITCHELL", "ROSE",   "DAVIS",    "RODRIGUEZ",
    "COX",      "ALEXANDER", "MORGAN", "MOORE",  "MARTIN",   "PRICE",   "HUGHES",  "EDWARDS", "GRIFFITHS", "OWEN",
    "TURNER",   "HILL",    "COOPER",  "WARD",    "MORRIS",   "KING",    "WATSON",  "HARRIS",  "BAKER",    "YOUNG",
    "ALLEN",    "ANDERSON", "BELL",   "CAMPBELL", "CARTER",  "CHAPMAN", "COLLINS", "COOK",    "DIXON",    "ELLIS",
    "FOSTER",   "GRAHAM",  "GRAY",    "HARRISON", "HOLMES",  "HUNT",    "KELLY",   "KENNEDY", "KNIGHT",   "LEE",
    "MARSHALL", "MILLS",   "MURPHY",  "MURRAY",  "PARKER",   "PEARSON", "POWELL",  "REID",    "REYNOLDS", "RICHARDS",
    "RICHARDSON", "ROGERS", "RUSSELL", "SHAW",   "SIMPSON",  "STEVENS", "STEWART", "SULLIVAN", "THOMAS",  "WEBB",
    "WELLS",    "WEST",    "FLETCHER", "ADAMS",  "AHMED",    "ALI",     "BAILEY",  "BARKER",  "BUTLER",   "HUSSAIN"};
const char* const kGivenNames[] = {
    "OLIVER", "GEORGE", "HARRY", "JACK", "JACOB", "NOAH", "CHARLIE", "MUHAMMAD", "THOMAS", "OSCAR",
    "WILLIAM", "JAMES", "HENRY", "LEO", "ALFIE", "JOSHUA", "FREDDIE", "ARCHIE", "ETHAN", "ISAAC",
    "OLIVIA", "AMELIA", "ISLA", "AVA", "EMILY", "SOPHIA", "GRACE", "MIA", "POPPY", "ELLA",
    "LILY", "EVIE", "ISABELLA", "SOPHIE", "IVY", "FREYA", "HARPER", "WILLOW", "CHARLOTTE", "JESSICA",
    "MARGARET", "SUSAN", "PATRICIA", "DAVID", "JOHN", "PETER", "ANNE", "MARY", "ELIZABETH", "ROBERT"};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR COUNT\n", argv[0]);
    return 2;
  }
  const std::string data_dir = argv[1];
  const int count = std::atoi(argv[2]);
  std::filesystem::create_directories(data_dir);
  auto index = dx::storage::SqliteIndex::Open(data_dir + "/index.sqlite", false);
  if (!index) {
    std::fprintf(stderr, "cannot open index: %s\n", index.error().message.c_str());
    return 1;
  }
  std::mt19937 random(20261122);
  const int surnames = sizeof kSurnames / sizeof *kSurnames;
  const int given = sizeof kGivenNames / sizeof *kGivenNames;
  std::vector<dx::storage::InstanceRecord> batch;
  for (int n = 0; n < count; ++n) {
    const int patient = n / 2;
    std::mt19937 patient_random(static_cast<unsigned>(patient) * 2654435761u);
    dx::storage::InstanceRecord r;
    r.patient_id = "RX" + std::to_string(1000000 + patient);
    r.issuer_of_patient_id = "RXH";
    r.patient_name = std::string(kSurnames[patient_random() % surnames]) + "^" + kGivenNames[patient_random() % given];
    r.patient_birth_date = std::to_string(1930 + patient_random() % 80) + "0" + std::to_string(1 + patient_random() % 9) + "15";
    r.patient_sex = patient_random() % 2 ? "F" : "M";
    r.study_instance_uid = "2.25.900." + std::to_string(n);
    char date[16];
    std::snprintf(date, sizeof date, "%04u%02u%02u", 2021 + static_cast<unsigned>(random() % 5),
                  1 + static_cast<unsigned>(random() % 12), 1 + static_cast<unsigned>(random() % 28));
    r.study_date = date;
    r.study_time = "101500";
    r.accession_number = "ACC" + std::to_string(5000000 + n);
    r.study_description = n % 3 == 0 ? "MRI BRAIN" : "CT CHEST";
    r.series_instance_uid = r.study_instance_uid + ".1";
    r.modality = n % 3 == 0 ? "MR" : "CT";
    r.series_number = "1";
    r.sop_instance_uid = r.series_instance_uid + ".1";
    r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    r.instance_number = "1";
    r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
    r.blob_key = "seed/none.dcm";
    r.size_bytes = 0;
    r.sha256 = std::string(64, '0');
    r.dicom_json = "{}";
    batch.push_back(std::move(r));
    if (batch.size() == 5000 || n + 1 == count) {
      auto inserted = (*index)->InsertBatch(batch, false);
      if (!inserted) {
        std::fprintf(stderr, "insert failed: %s\n", inserted.error().message.c_str());
        return 1;
      }
      batch.clear();
    }
  }
  std::printf("seeded %d studies into %s\n", count, data_dir.c_str());
  return 0;
}
