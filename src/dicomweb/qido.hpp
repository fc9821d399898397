// QIDO-RS requests (PS3.18 §10.6) turned into archive identifiers: matching
// parameters by keyword or tag, includefield, limit and offset, and the
// default return attributes of PS3.18 Table 10.6.3-3..5. Pure; thread-safe.
#pragma once

#include <map>
#include <string>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::dicomweb {

struct QidoRequest {
  dicom::Attributes identifier;  // QueryRetrieveLevel, matching keys and return keys
  storage::QueryLevel level = storage::QueryLevel::kStudy;
  std::size_t limit = 0;
  std::size_t offset = 0;
  bool fuzzy_requested = false;  // fuzzymatching=true: person names match fuzzily
};

// `path_uids` holds the StudyInstanceUID / SeriesInstanceUID taken from the path.
// Fails with kInvalidInput naming a parameter that is unknown or malformed.
Result<QidoRequest> ParseQido(storage::QueryLevel level, const std::multimap<std::string, std::string>& query,
                              const std::map<dicom::Tag, std::string>& path_uids);

}  // namespace dx::dicomweb
