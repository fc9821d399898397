// Synthetic archive content for InstanceIndex tests and benchmarks: `studies`
// one-instance studies over studies/2 patients with realistic-looking keys.
// Pure function of its arguments; call from one thread per index.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "storage/api/instance_index.hpp"

namespace dx::storage::seed {

// Patient n/2 is "SURNAME<k>^<n/2>" with k = (n/2) % 2000, so a surname prefix
// matches about 1/2000 of patients; PatientID "P<n/2>", AccessionNumber
// "A<n>", StudyDate spread over 2025, Modality CT or (every third study) MR.
inline Result<void> SeedStudies(InstanceIndex& index, int studies, int batch_size = 1000) {
  std::vector<InstanceRecord> batch;
  for (int n = 0; n < studies; ++n) {
    InstanceRecord r;
    const int patient = n / 2;
    r.patient_id = "P" + std::to_string(patient);
    r.patient_name = "SURNAME" + std::to_string(patient % 2000) + "^" + std::to_string(patient);
    r.patient_birth_date = "19700101";
    r.study_instance_uid = "2.25.1." + std::to_string(n);
    char date[16];
    std::snprintf(date, sizeof date, "2025%02d%02d", 1 + n % 12, 1 + n % 28);
    r.study_date = date;
    r.study_time = "101500";
    r.accession_number = "A" + std::to_string(n);
    r.series_instance_uid = r.study_instance_uid + ".1";
    r.modality = n % 3 == 0 ? "MR" : "CT";
    r.series_number = "1";
    r.sop_instance_uid = r.series_instance_uid + ".1";
    r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    r.instance_number = "1";
    r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
    r.blob_key = "seed/" + r.sop_instance_uid;
    r.size_bytes = 1000;
    r.sha256 = std::string(64, '0');
    r.dicom_json = "{}";
    batch.push_back(std::move(r));
    if (static_cast<int>(batch.size()) == batch_size || n + 1 == studies) {
      auto inserted = index.InsertBatch(batch, false);
      if (!inserted) return tl::unexpected(inserted.error());
      batch.clear();
    }
  }
  return {};
}

}  // namespace dx::storage::seed
