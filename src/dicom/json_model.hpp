// Attributes in the DICOM JSON model (PS3.18 F.2): {"GGGGEEEE": {"vr": ...,
// "Value": [...]}}, with PN as {"Alphabetic": ...} and numeric VRs as numbers.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "dicom/attributes.hpp"

namespace dx::dicom {

nlohmann::json ToDicomJson(const Attributes& attributes);

}  // namespace dx::dicom
