#include "fhir/outcome.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace dx::fhir {

using nlohmann::json;

http::Response Outcome(int status, const std::string& code, const std::string& message,
                       const std::string& expression) {
  json issue = {{"severity", "error"}, {"code", code}, {"diagnostics", message}};
  if (!expression.empty()) issue["expression"] = json::array({expression});
  http::Response response =
      http::Response::Json({{"resourceType", "OperationOutcome"}, {"issue", json::array({issue})}}, status);
  response.content_type = kFhirJson;
  return response;
}

namespace {

const char* IssueCode(int status) {
  switch (status) {
    case 400: return "invalid";
    case 401: return "login";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "not-supported";
    case 406: return "not-supported";
    case 409: return "conflict";
    case 413: return "too-costly";
    case 415: return "not-supported";
    default: return status >= 500 ? "exception" : "processing";
  }
}

}  // namespace

http::Middleware OperationOutcomeErrors(std::string prefix) {
  return [prefix = std::move(prefix)](http::Request& request, const http::Next& next) -> http::Response {
    const bool fhir = request.path == prefix || request.path.rfind(prefix + "/", 0) == 0;
    http::Response response;
    try {
      response = next(request);
    } catch (const Error& e) {
      if (!fhir) throw;
      return Outcome(HttpStatus(e.code()), IssueCode(HttpStatus(e.code())), e.what());
    }
    if (!fhir || response.content_type != "application/problem+json") return response;
    const json problem = json::parse(response.body, nullptr, false);
    const std::string detail = problem.is_object() ? problem.value("detail", "") : response.body;
    http::Response outcome = Outcome(response.status, IssueCode(response.status), detail);
    outcome.headers = std::move(response.headers);
    return outcome;
  };
}

}  // namespace dx::fhir
