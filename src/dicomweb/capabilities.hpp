// The DICOMweb Capabilities Description (PS3.18 §8.9 and Annex H): OPTIONS on the
// service root, or on any resource under it, answers a WADL document describing
// that resource, its methods (with their query parameters and media types) and
// its children, as dxhub implements them. application/json gives the same tree
// as JSON. Constant data; thread-safe.
#pragma once

#include <string>

#include "http/router.hpp"

namespace dx::dicomweb {

// Registers OPTIONS at the DICOMweb root and at every resource of the tree.
void RegisterCapabilityRoutes(http::Router& router);

// The WADL document for the resource at `path` below the root ("" for the root,
// "studies/{study}" for a study), with `base` as the resources' base URL; empty
// when no such resource exists. Exposed for tests.
std::string CapabilitiesWadl(const std::string& base, const std::string& path);

}  // namespace dx::dicomweb
