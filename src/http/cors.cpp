#include "http/cors.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dx::http {

Middleware Cors(CorsOptions options, const Router& router) {
  return [options = std::move(options), &router](Request& request, const Next& next) -> Response {
    const std::string& origin = request.Header("origin");
    const auto& allowed = options.allowed_origins;
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (origin.empty() || (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end())) {
      return next(request);
    }
    // Credentials are never allowed, so "*" may be answered as is; a named origin is
    // echoed and caches must keep answers per origin.
    auto allow_origin = [&](Response& response) {
      response.headers["Access-Control-Allow-Origin"] = any ? "*" : origin;
      if (!any) {
        auto& vary = response.headers["Vary"];
        vary = vary.empty() ? "Origin" : vary + ", Origin";
      }
    };
    const std::string& asked_method = request.Header("access-control-request-method");
    if (request.method == "OPTIONS" && !asked_method.empty()) {
      const auto methods = router.AllowedMethods(request.path);
      if (methods.empty()) return Response::Problem(404, fmt::format("no resource at {}", request.path));
      Response response{204, "text/plain", "", {}};
      allow_origin(response);
      response.headers["Access-Control-Allow-Methods"] = fmt::format("{}", fmt::join(methods, ", "));
      const std::string& asked_headers = request.Header("access-control-request-headers");
      if (!asked_headers.empty()) response.headers["Access-Control-Allow-Headers"] = asked_headers;
      response.headers["Access-Control-Max-Age"] = std::to_string(options.max_age_seconds);
      return response;
    }
    Response response = next(request);
    allow_origin(response);
    response.headers["Access-Control-Expose-Headers"] =
        "Content-Type, Content-Length, Content-Location, Location, Warning, Allow";
    return response;
  };
}

}  // namespace dx::http
