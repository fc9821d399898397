// Attributes in the DICOM JSON model (PS3.18 F.2): {"GGGGEEEE": {"vr": ...,
// "Value": [...]}}, with PN as {"Alphabetic": ...} and numeric VRs as numbers.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "dicom/attributes.hpp"

namespace dx::dicom {

nlohmann::json ToDicomJson(const Attributes& attributes);

// Appends the same object as ToDicomJson(attributes).dump() to `out`, written
// directly (no JSON tree): QIDO-RS answers are built row by row with it. Text
// that is not valid UTF-8 is written with U+FFFD in place of the bad bytes.
void AppendDicomJson(const Attributes& attributes, std::string& out);

}  // namespace dx::dicom
