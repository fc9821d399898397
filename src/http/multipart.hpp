// A multipart/related body (RFC 2387, RFC 2046 §5.1) split into its parts, as
// STOW-RS receives it (PS3.18 §8.6). Parts are views into the body: keep the body
// alive while using them. Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace dx::http {

struct MultipartPart {
  std::map<std::string, std::string> headers;  // lower-case names
  std::string_view body;
};

struct Multipart {
  std::string type;  // the "type" parameter of the Content-Type, empty when absent
  std::vector<MultipartPart> parts;
};

// The value of parameter `name` (case-insensitive) of a header value such as
// `multipart/related; type="application/dicom"; boundary=abc`, unquoted; empty when absent.
std::string HeaderParameter(std::string_view header_value, std::string_view name);

// The media type of a Content-Type value, lower case, without parameters.
std::string MediaType(std::string_view header_value);

// Parses `body` given its Content-Type. kUnsupported when it is not
// multipart/related; kInvalidInput for a missing boundary, no parts, a missing
// closing delimiter or a part without a header/body separator.
Result<Multipart> ParseMultipartRelated(std::string_view content_type, std::string_view body);

}  // namespace dx::http
