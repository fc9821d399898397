#include "fhir/routes.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fhir/outcome.hpp"
#include "fhir/search.hpp"

namespace dx::fhir {
namespace {

using nlohmann::json;

const std::vector<std::string> kTypes{"DiagnosticReport", "Observation"};

bool Supported(const std::string& type) { return std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end(); }

std::string BaseUrl(const http::Request& request) {
  const auto& host = request.Header("host");
  const auto& proto = request.Header("x-forwarded-proto");
  return fmt::format("{}://{}{}", proto == "https" ? "https" : "http", host.empty() ? "localhost" : host, kFhirRoot);
}

std::string Actor(const http::Request& request) {
  auto user = request.attributes.find("user");
  return user == request.attributes.end() ? "http" : user->second;
}

// JSON is the only format: an Accept that excludes it gets 406.
std::optional<http::Response> RefuseFormat(const http::Request& request) {
  const auto& accept = request.Header("accept");
  if (accept.empty() || accept.find("json") != std::string::npos || accept.find("*/*") != std::string::npos ||
      accept.find("application/*") != std::string::npos) {
    return std::nullopt;
  }
  return Outcome(406, "not-supported", "only application/fhir+json is served; the Accept header excludes it");
}

http::Response FhirJson(std::string body) { return http::Response{200, kFhirJson, std::move(body), {}}; }

std::string PercentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == ',' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The search URL with `offset` in place of the request's _offset.
std::string PageUrl(const http::Request& request, const std::string& type, int offset, int count) {
  std::string url = BaseUrl(request) + "/" + type + "?";
  for (const auto& [name, value] : request.query) {
    if (name == "_offset" || name == "_count") continue;
    url += PercentEncode(name) + "=" + PercentEncode(value) + "&";
  }
  return url + fmt::format("_count={}&_offset={}", count, offset);
}

json CapabilityStatement(const http::Request& request) {
  json search_params = json::array({
      {{"name", "patient.identifier"}, {"type", "token"}, {"documentation", "the NHS number: https://fhir.nhs.uk/Id/nhs-number|<number>"}},
      {{"name", "status"}, {"type", "token"}},
      {{"name", "category"}, {"type", "token"}},
      {{"name", "code"}, {"type", "token"}},
      {{"name", "date"}, {"type", "date"}, {"documentation", "prefixes eq, ge, gt, le, lt"}},
  });
  json resources = json::array();
  for (const auto& type : kTypes) {
    resources.push_back({{"type", type},
                         {"interaction", json::array({{{"code", "read"}}, {{"code", "vread"}},
                                                      {{"code", "history-instance"}}, {{"code", "search-type"}}})},
                         {"versioning", "versioned"},
                         {"readHistory", true},
                         {"searchParam", search_params}});
  }
  return {{"resourceType", "CapabilityStatement"},
          {"status", "active"},
          {"date", "2026-11-23"},
          {"kind", "instance"},
          {"software", {{"name", "dxhub"}}},
          {"implementation", {{"description", "dxhub results"}, {"url", BaseUrl(request)}}},
          {"fhirVersion", "4.0.1"},
          {"format", json::array({"json"})},
          {"rest", json::array({{{"mode", "server"},
                                 {"resource", resources},
                                 {"searchParam", json::array({{{"name", "_sort"}, {"type", "string"}},
                                                              {{"name", "_count"}, {"type", "number"}}})}}})}};
}

}  // namespace

std::string WithMeta(const storage::StoredResource& resource) {
  const std::string& body = resource.record.json;
  const std::string meta = fmt::format(R"("meta":{{"versionId":"{}","lastUpdated":"{}"}})", resource.version,
                                       resource.last_updated);
  // After "resourceType", so the answer reads naturally; a resource is a JSON object.
  const std::string lead = R"({"resourceType":")" + resource.record.type + "\",";
  if (body.rfind(lead, 0) == 0) return lead + meta + "," + body.substr(lead.size());
  if (body.size() > 2 && body.front() == '{') return "{" + meta + "," + body.substr(1);
  return "{" + meta + "}";
}

void RegisterFhirRoutes(http::Router& router, storage::ResultStore& store, audit::AuditTrail& audit) {
  router.Use(OperationOutcomeErrors(kFhirRoot));
  const std::string root = kFhirRoot;
  router.Add("GET", root + "/metadata", [](const http::Request& request) {
    if (auto refused = RefuseFormat(request)) return *refused;
    http::Response response = http::Response::Json(CapabilityStatement(request));
    response.content_type = kFhirJson;
    return response;
  });

  auto read = [&store, &audit](const http::Request& request) -> http::Response {
    if (auto refused = RefuseFormat(request)) return *refused;
    const std::string& type = request.params.at("type");
    const std::string& id = request.params.at("id");
    if (!Supported(type)) return Outcome(404, "not-supported", fmt::format("resource type {} is not served", type));
    int version = 0;
    if (auto vid = request.params.find("vid"); vid != request.params.end()) {
      char* end = nullptr;
      version = static_cast<int>(std::strtol(vid->second.c_str(), &end, 10));
      if (vid->second.empty() || *end != '\0' || version < 1) {
        return Outcome(400, "invalid", fmt::format("'{}' is not a version id", vid->second));
      }
    }
    auto found = store.Read(type, id, version);
    if (!found) throw Error(found.error());
    audit.Record({Actor(request), version ? "fhir.vread" : "fhir.read", *found ? "success" : "not-found",
                  {fmt::format("{}/{}", type, id), *found ? "patient:" + (*found)->record.nhs_number : ""},
                  ""});
    if (!*found) {
      return Outcome(404, "not-found",
                     version ? fmt::format("{}/{} has no version {}", type, id, version)
                             : fmt::format("no {}/{}", type, id));
    }
    http::Response response = FhirJson(WithMeta(**found));
    response.headers["ETag"] = fmt::format("W/\"{}\"", (*found)->version);
    response.headers["Last-Modified"] = (*found)->last_updated;
    return response;
  };
  router.Add("GET", root + "/{type}/{id}", read);
  router.Add("GET", root + "/{type}/{id}/_history/{vid}", read);

  router.Add("GET", root + "/{type}/{id}/_history", [&store, &audit](const http::Request& request) -> http::Response {
    if (auto refused = RefuseFormat(request)) return *refused;
    const std::string& type = request.params.at("type");
    const std::string& id = request.params.at("id");
    if (!Supported(type)) return Outcome(404, "not-supported", fmt::format("resource type {} is not served", type));
    auto versions = store.History(type, id);
    if (!versions) throw Error(versions.error());
    audit.Record({Actor(request), "fhir.history", versions->empty() ? "not-found" : "success",
                  {fmt::format("{}/{}", type, id),
                   versions->empty() ? "" : "patient:" + versions->front().record.nhs_number},
                  ""});
    if (versions->empty()) return Outcome(404, "not-found", fmt::format("no {}/{}", type, id));
    const std::string base = BaseUrl(request);
    std::string body = fmt::format(R"({{"resourceType":"Bundle","type":"history","total":{},"entry":[)",
                                   versions->size());
    for (std::size_t i = 0; i < versions->size(); ++i) {
      const auto& v = (*versions)[i];
      body += fmt::format(R"({}{{"fullUrl":"{}/{}/{}","resource":{},"request":{{"method":"{}","url":"{}/{}"}},)"
                          R"("response":{{"status":"{}","lastModified":"{}"}}}})",
                          i ? "," : "", base, type, id, WithMeta(v), v.version == 1 ? "POST" : "PUT", type,
                          v.version == 1 ? "" : id, v.version == 1 ? "201" : "200", v.last_updated);
    }
    body += "]}";
    return FhirJson(std::move(body));
  });

  router.Add("GET", root + "/{type}", [&store, &audit](const http::Request& request) -> http::Response {
    if (auto refused = RefuseFormat(request)) return *refused;
    const std::string& type = request.params.at("type");
    if (!Supported(type)) return Outcome(404, "not-supported", fmt::format("resource type {} is not served", type));
    auto search = ParseSearch(type, request.query);
    if (!search) return Outcome(400, "invalid", search.error().message, search.error().parameter);
    auto page = store.Search(*search);
    if (!page) throw Error(page.error());
    audit.Record({Actor(request), "fhir.search", fmt::format("success total={}", page->total),
                  {type, search->nhs_number.empty() ? "patient:any" : "patient:" + search->nhs_number}, ""});
    const std::string base = BaseUrl(request);
    json links = json::array({{{"relation", "self"}, {"url", PageUrl(request, type, search->offset, search->count)}}});
    if (search->count > 0 && search->offset + search->count < page->total) {
      links.push_back({{"relation", "next"}, {"url", PageUrl(request, type, search->offset + search->count, search->count)}});
    }
    if (search->offset > 0) {
      links.push_back({{"relation", "previous"},
                       {"url", PageUrl(request, type, std::max(0, search->offset - search->count), search->count)}});
    }
    std::string body = fmt::format(R"({{"resourceType":"Bundle","type":"searchset","total":{},"link":{},"entry":[)",
                                   page->total, links.dump());
    for (std::size_t i = 0; i < page->resources.size(); ++i) {
      const auto& r = page->resources[i];
      body += fmt::format(R"({}{{"fullUrl":"{}/{}/{}","resource":{},"search":{{"mode":"match"}}}})", i ? "," : "",
                          base, type, r.record.id, WithMeta(r));
    }
    body += "]}";
    return FhirJson(std::move(body));
  });
}

}  // namespace dx::fhir
