// Turning a parsed DICOM file into an index record: which attributes the
// archive keeps, the NHS number (Modulus 11 checked) and the checks a stored
// object must pass. Pure functions; thread-safe.
#pragma once

#include <string>

#include "core/error.hpp"
#include "dicom/file_reader.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::archive {

// The issuer values under which a PatientID is an NHS number.
bool IsNhsIssuer(const std::string& issuer);

// Builds the record; fails with kInvalidInput naming a missing or invalid UID.
Result<storage::InstanceRecord> RecordFromFile(const dicom::ParsedFile& parsed);

}  // namespace dx::archive
