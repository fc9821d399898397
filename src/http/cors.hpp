// Cross-origin resource sharing (the Fetch standard's CORS protocol) as router
// middleware, so browser viewers served from another origin can use the API.
// Only the configured origins are answered; everything else passes through
// without CORS headers, which browsers treat as a refusal.
#pragma once

#include <string>
#include <vector>

#include "http/router.hpp"

namespace dx::http {

struct CorsOptions {
  // Origins allowed to read responses ("https://viewer.example.nhs.uk"), or "*"
  // for any. Empty: CORS is off.
  std::vector<std::string> allowed_origins;
  int max_age_seconds = 600;  // how long a browser may cache a preflight answer
};

// Answers preflight requests (OPTIONS with Access-Control-Request-Method) itself,
// with the methods the router has for the path, and adds Access-Control-Allow-Origin
// and the exposed headers to every other response to an allowed origin.
Middleware Cors(CorsOptions options, const Router& router);

}  // namespace dx::http
