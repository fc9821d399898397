// The relational shape every InstanceIndex adapter shares (patients p, studies s,
// series se, instances i; migrations/<dialect>/0001_archive.sql): the query-column
// whitelist of instance_index.hpp with each column's SQL expression and level, and
// the FROM clause that joins a level to the levels above it. Only these strings
// ever become column names in generated SQL. Constant data; thread-safe.
#pragma once

#include <string>

#include "storage/api/instance_index.hpp"

namespace dx::storage {

struct IndexColumn {
  const char* name;
  const char* sql;  // nullptr: modalities_in_study, matched through the study's series
  QueryLevel level;
};

inline constexpr IndexColumn kIndexColumns[] = {
    {"patient_id", "p.patient_id", QueryLevel::kPatient},
    {"issuer_of_patient_id", "p.issuer_of_patient_id", QueryLevel::kPatient},
    {"patient_name", "p.patient_name", QueryLevel::kPatient},
    {"patient_birth_date", "p.patient_birth_date", QueryLevel::kPatient},
    {"patient_sex", "p.patient_sex", QueryLevel::kPatient},
    {"nhs_number", "p.nhs_number", QueryLevel::kPatient},
    {"study_instance_uid", "s.study_instance_uid", QueryLevel::kStudy},
    {"study_date", "s.study_date", QueryLevel::kStudy},
    {"study_time", "s.study_time", QueryLevel::kStudy},
    {"accession_number", "s.accession_number", QueryLevel::kStudy},
    {"study_id", "s.study_id", QueryLevel::kStudy},
    {"study_description", "s.study_description", QueryLevel::kStudy},
    {"referring_physician_name", "s.referring_physician_name", QueryLevel::kStudy},
    {"modalities_in_study", nullptr, QueryLevel::kStudy},
    {"series_instance_uid", "se.series_instance_uid", QueryLevel::kSeries},
    {"modality", "se.modality", QueryLevel::kSeries},
    {"series_number", "se.series_number", QueryLevel::kSeries},
    {"series_description", "se.series_description", QueryLevel::kSeries},
    {"body_part_examined", "se.body_part_examined", QueryLevel::kSeries},
    {"sop_instance_uid", "i.sop_instance_uid", QueryLevel::kInstance},
    {"sop_class_uid", "i.sop_class_uid", QueryLevel::kInstance},
    {"instance_number", "i.instance_number", QueryLevel::kInstance},
};

// The whitelisted column called `name`, or nullptr.
inline const IndexColumn* FindIndexColumn(const std::string& name) {
  for (const auto& column : kIndexColumns) {
    if (name == column.name) return &column;
  }
  return nullptr;
}

// " FROM …" joining `level` to every level above it.
inline const char* IndexFromClause(QueryLevel level) {
  switch (level) {
    case QueryLevel::kPatient: return " FROM patients p";
    case QueryLevel::kStudy: return " FROM studies s JOIN patients p ON p.pk = s.patient_pk";
    case QueryLevel::kSeries:
      return " FROM series se JOIN studies s ON s.pk = se.study_pk JOIN patients p ON p.pk = s.patient_pk";
    case QueryLevel::kInstance:
      return " FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk"
             " JOIN patients p ON p.pk = s.patient_pk";
  }
  return "";
}

}  // namespace dx::storage
