// C-FIND / C-MOVE / C-GET identifiers (PS3.4 C.6.1, C.6.2) turned into index
// queries, and index rows turned back into response identifiers. Matching types
// per PS3.4 C.2.2.2: single value, wildcard, range, list of UIDs, universal.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::archive {

// Builds the query for an identifier. Fails with kInvalidInput when the
// QueryRetrieveLevel is missing or unknown, or a range is malformed. With
// `fuzzy_names`, person names match by fuzzy semantic matching (PS3.4
// C.2.2.2.1.2): each word of the value, in any case, begins a name component,
// so "smith john", "John Sm" and "SMITH^J" all find SMITH^JOHN.
Result<storage::Query> QueryFromIdentifier(const dicom::Attributes& identifier, bool patient_root,
                                           bool fuzzy_names = false);

// The response identifier for one row: every key the request named, filled
// where dxhub knows the value and empty otherwise.
dicom::Attributes ResponseFor(const dicom::Attributes& identifier, storage::QueryLevel level,
                              const storage::QueryRow& row, const std::string& retrieve_ae_title);

}  // namespace dx::archive
