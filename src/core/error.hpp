// Error values and the Result<T> type used for expected failures across dxhub.
// ErrorCode is the one table that maps a failure to each protocol's answer
// (HTTP status, DIMSE status, HL7 acknowledgement code). Immutable; thread-safe.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace dx {

enum class ErrorCode {
  kInvalidInput,        // the peer sent something malformed or incomplete
  kNotFound,            // the thing asked for does not exist
  kConflict,            // duplicate or incompatible with what is stored
  kRefused,             // not allowed (unknown AE, policy)
  kTooLarge,            // over a configured size limit
  kUnsupported,         // valid but not something dxhub does
  kUnavailable,         // a peer or resource is unreachable
  kStorage,             // the index or blob store failed
  kInternal,            // a bug
};

std::string_view ToString(ErrorCode code);
int HttpStatus(ErrorCode code);
// DIMSE status for a failed C-STORE (PS3.4 Annex B.2.3).
std::uint16_t DimseStoreStatus(ErrorCode code);
// HL7 v2 original-mode acknowledgement code (AE or AR).
std::string_view Hl7AckCode(ErrorCode code);

struct ErrorInfo {
  ErrorCode code;
  std::string message;
};

// Thrown for failures that end a request; caught only at protocol boundaries.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message)
      : std::runtime_error(message), code_(code) {}
  explicit Error(ErrorInfo info) : Error(info.code, std::move(info.message)) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

template <typename T>
using Result = tl::expected<T, ErrorInfo>;

inline tl::unexpected<ErrorInfo> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<ErrorInfo>(ErrorInfo{code, std::move(message)});
}

}  // namespace dx
