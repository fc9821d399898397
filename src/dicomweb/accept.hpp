// Accept-header negotiation for WADO-RS DICOM retrieval (PS3.18 §8.7.3):
// which transfer syntaxes a client will take in multipart/related;
// type="application/dicom" answers. Pure; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>

namespace dx::dicomweb {

inline constexpr char kExplicitLittleEndian[] = "1.2.840.10008.1.2.1";

struct DicomAccept {
  bool any_syntax = false;        // transfer-syntax=*
  std::set<std::string> syntaxes;  // explicit transfer-syntax values (or the default)
  bool Accepts(const std::string& syntax) const { return any_syntax || syntaxes.count(syntax) > 0; }
};

// nullopt when no media range of `accept` can be answered with DICOM parts.
// A missing header, */* and multipart/related without transfer-syntax all mean
// the default, explicit VR little endian (PS3.18 §8.7.3.5.2).
std::optional<DicomAccept> NegotiateDicom(const std::string& accept);

}  // namespace dx::dicomweb
