#include "http/router.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

const std::string& Request::Header(const std::string& name) const {
  static const std::string kNone;
  auto it = headers.find(name);
  return it == headers.end() ? kNone : it->second;
}

void Router::Use(Middleware middleware) { middleware_.push_back(std::move(middleware)); }

Response Router::Dispatch(Request request) const { return Run(0, request); }

Response Router::Run(std::size_t step, Request& request) const {
  if (step == middleware_.size()) return RouteRequest(request);
  return middleware_[step](request, [this, step](Request& next) { return Run(step + 1, next); });
}

namespace {

// The {name} values when `segments` match the route's pattern.
bool MatchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>* params) {
  if (pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& want = pattern[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (params) (*params)[want.substr(1, want.size() - 2)] = segments[i];
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> Router::AllowedMethods(const std::string& path) const {
  const auto segments = Split(path);
  std::vector<std::string> methods;
  auto add = [&](const std::string& method) {
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
  };
  for (const auto& route : routes_) {
    if (!MatchSegments(route.segments, segments, nullptr)) continue;
    add(route.method);
    if (route.method == "GET") add("HEAD");
  }
  if (!methods.empty()) add("OPTIONS");
  return methods;
}

Response Router::RouteRequest(Request& request) const {
  const auto segments = Split(request.path);
  bool path_known = false;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchSegments(route.segments, segments, &params)) continue;
    path_known = true;
    if (route.method != request.method && !(route.method == "GET" && request.method == "HEAD")) continue;
    request.params = std::move(params);
    return route.handler(request);
  }
  if (path_known && request.method == "OPTIONS") {
    Response response{204, "text/plain", "", {}};
    response.headers["Allow"] = fmt::format("{}", fmt::join(AllowedMethods(request.path), ", "));
    return response;
  }
  if (path_known) {
    auto response = Response::Problem(405, fmt::format("{} is not allowed on {}", request.method, request.path));
    response.headers["Allow"] = fmt::format("{}", fmt::join(AllowedMethods(request.path), ", "));
    return response;
  }
  return Response::Problem(404, fmt::format("no resource at {}", request.path));
}

}  // namespace dx::http
