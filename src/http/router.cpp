#include "http/router.hpp"

#include <fmt/format.h>

namespace dx::http {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

}  // namespace

Response Response::Json(const nlohmann::json& value, int status) {
  return Response{status, "application/json", value.dump(), {}};
}

Response Response::Problem(int status, const std::string& detail) {
  return Response{status, "application/problem+json", nlohmann::json{{"status", status}, {"detail", detail}}.dump(),
                  {}};
}

void Router::Add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, Split(pattern), std::move(handler)});
}

Response Router::Dispatch(Request request) const {
  const auto segments = Split(request.path);
  bool path_known = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const auto& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        match = want == segments[i];
      }
    }
    if (!match) continue;
    path_known = true;
    if (route.method != request.method && !(route.method == "GET" && request.method == "HEAD")) continue;
    request.params = std::move(params);
    return route.handler(request);
  }
  if (path_known) return Response::Problem(405, fmt::format("{} is not allowed on {}", request.method, request.path));
  return Response::Problem(404, fmt::format("no resource at {}", request.path));
}

}  // namespace dx::http
