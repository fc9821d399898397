// Reading a stored DICOM file for indexing: the top-level attributes, the
// transfer syntax, and the instance's DICOM JSON (PS3.18 F.2) with bulk data
// as BulkDataURIs, without loading pixel data into memory. Thread-safe
// (no shared state).
#pragma once

#include <string>

#include "core/error.hpp"
#include "dicom/attributes.hpp"

namespace dx::dicom {

struct ParsedFile {
  Attributes attributes;          // top-level data set elements (no pixel data)
  std::string transfer_syntax_uid;
  std::string dicom_json;         // one JSON object, bulk data as BulkDataURI
};

// Parses the file at `path` (Part 10 with meta header). Fails with
// kInvalidInput naming the problem for truncated or malformed data.
// BulkDataURIs are relative to the DICOMweb root:
// "studies/{study}/series/{series}/instances/{sop}/bulk/{ggggeeee}".
Result<ParsedFile> ReadDicomFile(const std::string& path);

}  // namespace dx::dicom
