#include "archive/record.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/nhs_number.hpp"
#include "core/uid.hpp"

namespace dx::archive {
namespace tags = dicom::tags;

bool IsNhsIssuer(const std::string& issuer) {
  std::string upper = issuer;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  return upper == "NHS" || upper == "NHSN" || upper == "2.16.840.1.113883.2.1.4.1" ||
         upper == "HTTPS://FHIR.NHS.UK/ID/NHS-NUMBER";
}

namespace {

std::int64_t ToInt(const std::string& text, std::int64_t fallback) {
  try {
    return text.empty() ? fallback : std::stoll(text);
  } catch (const std::exception&) {
    return fallback;
  }
}

// The NHS number of the patient: the PatientID when its issuer is the NHS, or
// else any Other Patient ID that is a valid NHS number.
std::string FindNhsNumber(const dicom::Attributes& a) {
  if (IsNhsIssuer(a.Get(tags::kIssuerOfPatientId))) {
    if (auto nhs = NormalizeNhsNumber(a.Get(tags::kPatientId))) return *nhs;
  }
  const std::string others = a.Get(tags::kOtherPatientIds);
  std::size_t start = 0;
  while (start <= others.size()) {
    std::size_t end = others.find('\\', start);
    if (end == std::string::npos) end = others.size();
    if (auto nhs = NormalizeNhsNumber(others.substr(start, end - start))) return *nhs;
    start = end + 1;
  }
  return {};
}

std::string Trim(std::string value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
  return value;
}

}  // namespace

Result<storage::InstanceRecord> RecordFromFile(const dicom::ParsedFile& parsed) {
  const auto& a = parsed.attributes;
  storage::InstanceRecord r;
  r.sop_instance_uid = Trim(a.Get(tags::kSopInstanceUid));
  r.sop_class_uid = Trim(a.Get(tags::kSopClassUid));
  r.study_instance_uid = Trim(a.Get(tags::kStudyInstanceUid));
  r.series_instance_uid = Trim(a.Get(tags::kSeriesInstanceUid));
  for (auto [name, value] : {std::pair{"SOPInstanceUID", &r.sop_instance_uid}, {"SOPClassUID", &r.sop_class_uid},
                             {"StudyInstanceUID", &r.study_instance_uid},
                             {"SeriesInstanceUID", &r.series_instance_uid}}) {
    if (value->empty()) return Fail(ErrorCode::kInvalidInput, fmt::format("missing {}", name));
    if (!IsValidUid(*value)) return Fail(ErrorCode::kInvalidInput, fmt::format("{} is not a valid UID", name));
  }
  r.patient_id = a.Get(tags::kPatientId);
  r.issuer_of_patient_id = a.Get(tags::kIssuerOfPatientId);
  r.patient_name = a.Get(tags::kPatientName);
  r.patient_birth_date = a.Get(tags::kPatientBirthDate);
  r.patient_sex = a.Get(tags::kPatientSex);
  r.nhs_number = FindNhsNumber(a);
  r.study_date = a.Get(tags::kStudyDate);
  r.study_time = a.Get(tags::kStudyTime);
  r.accession_number = a.Get(tags::kAccessionNumber);
  r.study_id = a.Get(tags::kStudyId);
  r.study_description = a.Get(tags::kStudyDescription);
  r.referring_physician_name = a.Get(tags::kReferringPhysicianName);
  r.modality = a.Get(tags::kModality);
  r.series_number = a.Get(tags::kSeriesNumber);
  r.series_description = a.Get(tags::kSeriesDescription);
  r.body_part_examined = a.Get(tags::kBodyPartExamined);
  r.instance_number = a.Get(tags::kInstanceNumber);
  r.transfer_syntax_uid = parsed.transfer_syntax_uid;
  r.number_of_frames = ToInt(a.Get(tags::kNumberOfFrames), 1);
  r.rows = ToInt(a.Get(tags::kRows), 0);
  r.columns = ToInt(a.Get(tags::kColumns), 0);
  r.dicom_json = parsed.dicom_json;
  return r;
}

}  // namespace dx::archive
