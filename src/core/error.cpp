#include "core/error.hpp"

namespace dx {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "invalid-input";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kRefused: return "refused";
    case ErrorCode::kTooLarge: return "too-large";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kRefused: return 403;
    case ErrorCode::kTooLarge: return 413;
    case ErrorCode::kUnsupported: return 415;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kStorage: return 500;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::uint16_t DimseStoreStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return 0xC000;  // Error: cannot understand
    case ErrorCode::kConflict: return 0xA900;      // Error: data set does not match SOP class
    case ErrorCode::kRefused: return 0x0124;       // Refused: not authorized
    case ErrorCode::kTooLarge: return 0xA700;      // Refused: out of resources
    case ErrorCode::kUnsupported: return 0x0122;   // Refused: SOP class not supported
    case ErrorCode::kStorage: return 0xA700;       // Refused: out of resources
    default: return 0x0110;                        // Processing failure
  }
}

std::string_view Hl7AckCode(ErrorCode code) {
  return code == ErrorCode::kUnsupported ? "AR" : "AE";
}

}  // namespace dx
