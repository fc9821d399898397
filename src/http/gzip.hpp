// gzip content coding (RFC 9110 §8.4.1.3) as router middleware: JSON, XML and text
// answers are compressed when the client accepts gzip, streamed answers piece by
// piece, so nothing is buffered whole. Images and DICOM objects are left alone:
// they are compressed already or too costly to compress per request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/router.hpp"

namespace dx::http {

struct GzipOptions {
  int level = 1;                    // zlib level: 1 is fastest and already shrinks JSON ~5×
  std::size_t min_body_bytes = 1024;  // smaller answers are not worth a header
};

Middleware Gzip(GzipOptions options = {});

// Whether an Accept-Encoding value admits gzip (a q=0 refuses it).
bool AcceptsGzip(std::string_view accept_encoding);

// One-shot compression and decompression, for tests and small bodies.
std::string GzipCompress(std::string_view data, int level = 1);
Result<std::string> GzipDecompress(std::string_view data);

}  // namespace dx::http
