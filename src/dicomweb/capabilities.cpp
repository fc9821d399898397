#include "dicomweb/capabilities.hpp"

#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "dicomweb/routes.hpp"

namespace dx::dicomweb {
namespace {

struct Param {
  const char* name;
  const char* type;  // an XML Schema type
};

struct Method {
  const char* verb;
  const char* id;  // the transaction's name in PS3.18
  std::vector<const char*> media_types;  // answers, the default first
  std::vector<Param> query;
};

struct Resource {
  const char* path;  // one segment, or "{name}" for a template
  std::vector<Method> methods;
  std::vector<Resource> children;
};

const char* const kDicomJsonType = "application/dicom+json";
const char* const kMultipartDicom = "multipart/related; type=\"application/dicom\"";
const std::vector<const char*> kRenderedTypes{"image/jpeg", "image/png", "multipart/related; type=\"image/jpeg\"",
                                              "multipart/related; type=\"image/png\""};
const std::vector<const char*> kFrameTypes{"multipart/related; type=\"application/octet-stream\"",
                                           "multipart/related; type=\"image/jpeg\"",
                                           "multipart/related; type=\"image/jls\"",
                                           "multipart/related; type=\"image/x-dicom-rle\"",
                                           "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"};

std::vector<Param> SearchParams(std::vector<Param> keys) {
  std::vector<Param> params{{"limit", "xs:unsignedInt"},
                            {"offset", "xs:unsignedInt"},
                            {"includefield", "xs:string"},
                            {"fuzzymatching", "xs:boolean"}};
  params.insert(params.end(), keys.begin(), keys.end());
  return params;
}

const std::vector<Param> kStudyKeys{{"StudyDate", "xs:string"},        {"StudyTime", "xs:string"},
                                    {"AccessionNumber", "xs:string"},  {"ModalitiesInStudy", "xs:string"},
                                    {"ReferringPhysicianName", "xs:string"}, {"PatientName", "xs:string"},
                                    {"PatientID", "xs:string"},        {"StudyInstanceUID", "xs:string"},
                                    {"StudyID", "xs:string"}};
const std::vector<Param> kSeriesKeys{{"Modality", "xs:string"}, {"SeriesInstanceUID", "xs:string"},
                                     {"SeriesNumber", "xs:string"}};
const std::vector<Param> kInstanceKeys{{"SOPClassUID", "xs:string"}, {"SOPInstanceUID", "xs:string"},
                                       {"InstanceNumber", "xs:string"}};
const std::vector<Param> kRenderParams{{"window", "xs:string"}, {"viewport", "xs:string"}, {"quality", "xs:unsignedInt"}};

std::vector<Param> Concat(std::vector<Param> a, const std::vector<Param>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Resource Rendered(const char* id) { return {"rendered", {{"GET", id, kRenderedTypes, kRenderParams}}, {}}; }
Resource Thumbnail(const char* id) {
  return {"thumbnail", {{"GET", id, {"image/jpeg", "image/png"}, {{"viewport", "xs:string"}}}}, {}};
}
Resource MetadataOf(const char* id) { return {"metadata", {{"GET", id, {kDicomJsonType}, {}}}, {}}; }

// Table H-1 as dxhub implements it.
const Resource& Tree() {
  static const Resource tree = [] {
    Resource frames{"{frames}",
                    {{"GET", "RetrieveFrames", kFrameTypes, {}}},
                    {{"rendered", {{"GET", "RetrieveRenderedFrames", kRenderedTypes, kRenderParams}}, {}},
                     {"thumbnail", {{"GET", "RetrieveFramesThumbnail", {"image/jpeg", "image/png"}, {}}}, {}}}};
    Resource instance{"{instance}",
                      {{"GET", "RetrieveInstance", {kMultipartDicom}, {}}},
                      {MetadataOf("RetrieveInstanceMetadata"), Rendered("RetrieveRenderedInstance"),
                       Thumbnail("RetrieveInstanceThumbnail"),
                       {"frames", {}, {frames}},
                       {"bulk", {}, {{"{tag}", {{"GET", "RetrieveBulkdata", {"multipart/related; type=\"application/octet-stream\""}, {}}}, {}}}}}};
    Resource series{"{series}",
                    {{"GET", "RetrieveSeries", {kMultipartDicom}, {}}},
                    {MetadataOf("RetrieveSeriesMetadata"), Rendered("RetrieveRenderedSeries"),
                     Thumbnail("RetrieveSeriesThumbnail"),
                     {"instances",
                      {{"GET", "SearchForStudySeriesInstances", {kDicomJsonType}, SearchParams(kInstanceKeys)}},
                      {instance}}}};
    Resource study{"{study}",
                   {{"GET", "RetrieveStudy", {kMultipartDicom}, {}},
                    {"POST", "StoreStudyInstances", {kDicomJsonType}, {}}},
                   {MetadataOf("RetrieveStudyMetadata"), Rendered("RetrieveRenderedStudy"),
                    Thumbnail("RetrieveStudyThumbnail"),
                    {"series", {{"GET", "SearchForStudySeries", {kDicomJsonType}, SearchParams(Concat(kSeriesKeys, {}))}},
                     {series}},
                    {"instances",
                     {{"GET", "SearchForStudyInstances", {kDicomJsonType},
                       SearchParams(Concat(kSeriesKeys, kInstanceKeys))}},
                     {}}}};
    Resource root{"",
                  {},
                  {{"studies",
                    {{"GET", "SearchForStudies", {kDicomJsonType}, SearchParams(kStudyKeys)},
                     {"POST", "StoreInstances", {kDicomJsonType}, {}}},
                    {study}},
                   {"series",
                    {{"GET", "SearchForSeries", {kDicomJsonType},
                      SearchParams(Concat(Concat(kStudyKeys, kSeriesKeys), {}))}},
                    {}},
                   {"instances",
                    {{"GET", "SearchForInstances", {kDicomJsonType},
                      SearchParams(Concat(Concat(kStudyKeys, kSeriesKeys), kInstanceKeys))}},
                    {}}}};
    return root;
  }();
  return tree;
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

// The resource at `segments`: literal segments match by name, any value matches a template.
const Resource* Find(const std::vector<std::string>& segments) {
  const Resource* node = &Tree();
  for (const auto& segment : segments) {
    const Resource* next = nullptr;
    for (const auto& child : node->children) {
      if (segment == child.path) next = &child;
    }
    for (const auto& child : node->children) {
      if (!next && child.path[0] == '{') next = &child;
    }
    if (!next) return nullptr;
    node = next;
  }
  return node;
}

std::string Xml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void WadlResource(const Resource& resource, const std::string& path, int depth, std::string& out) {
  const std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  out += fmt::format("{}<resource path=\"{}\">\n", pad, Xml(path));
  for (const auto& segment : Segments(path)) {
    if (segment.front() == '{') {
      out += fmt::format("{}  <param name=\"{}\" style=\"template\" type=\"xs:string\" required=\"true\"/>\n", pad,
                         segment.substr(1, segment.size() - 2));
    }
  }
  for (const auto& method : resource.methods) {
    out += fmt::format("{}  <method name=\"{}\" id=\"{}\">\n{}    <request>\n", pad, method.verb, method.id, pad);
    if (std::string_view(method.verb) == "GET") {
      out += fmt::format("{}      <param name=\"Accept\" style=\"header\" default=\"{}\">\n", pad,
                         Xml(method.media_types.front()));
      for (const auto* type : method.media_types) {
        out += fmt::format("{}        <option value=\"{}\"/>\n", pad, Xml(type));
      }
      out += fmt::format("{}      </param>\n", pad);
    } else {
      out += fmt::format("{}      <representation mediaType=\"{}\"/>\n", pad, Xml(kMultipartDicom));
    }
    for (const auto& param : method.query) {
      out += fmt::format("{}      <param name=\"{}\" style=\"query\" type=\"{}\"/>\n", pad, param.name, param.type);
    }
    out += fmt::format("{}    </request>\n{}    <response status=\"200\">\n", pad, pad);
    for (const auto* type : method.media_types) {
      out += fmt::format("{}      <representation mediaType=\"{}\"/>\n", pad, Xml(type));
    }
    out += fmt::format("{}    </response>\n{}  </method>\n", pad, pad);
  }
  for (const auto& child : resource.children) WadlResource(child, child.path, depth + 1, out);
  out += fmt::format("{}</resource>\n", pad);
}

nlohmann::json JsonResource(const Resource& resource, const std::string& path) {
  nlohmann::json methods = nlohmann::json::array(), children = nlohmann::json::array();
  for (const auto& method : resource.methods) {
    nlohmann::json query = nlohmann::json::array();
    for (const auto& param : method.query) query.push_back(param.name);
    methods.push_back({{"name", method.verb}, {"id", method.id}, {"mediaTypes", method.media_types}, {"query", query}});
  }
  for (const auto& child : resource.children) children.push_back(JsonResource(child, child.path));
  return {{"path", path}, {"methods", methods}, {"resources", children}};
}

std::string BaseOf(const http::Request& request) {
  const auto& host = request.Header("host");
  return fmt::format("http://{}{}", host.empty() ? "localhost" : host, kRoot);
}

std::string RelativePath(const http::Request& request) {
  std::string path = request.path.substr(std::string_view(kRoot).size());
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

// The patterns of every resource, for registering OPTIONS on each.
void Patterns(const Resource& resource, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& child : resource.children) {
    std::string pattern = prefix + "/" + child.path;
    out.push_back(pattern);
    Patterns(child, pattern, out);
  }
}

}  // namespace

std::string CapabilitiesWadl(const std::string& base, const std::string& path) {
  const auto segments = Segments(path);
  const Resource* resource = Find(segments);
  if (!resource) return {};
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<application xmlns=\"http://wadl.dev.java.net/2009/02\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n";
  out += fmt::format("  <resources base=\"{}\">\n", Xml(base));
  if (segments.empty()) {
    for (const auto& child : resource->children) WadlResource(child, child.path, 2, out);
  } else {
    WadlResource(*resource, path, 2, out);
  }
  out += "  </resources>\n</application>\n";
  return out;
}

void RegisterCapabilityRoutes(http::Router& router) {
  auto handler = [&router](const http::Request& request) {
    const std::string path = RelativePath(request);
    const Resource* resource = Find(Segments(path));
    if (!resource) return http::Response::Problem(404, fmt::format("no DICOMweb resource at {}", request.path));
    // WADL unless the client prefers JSON (Accept naming application/json and not the WADL type).
    const auto& accept = request.Header("accept");
    const bool json = accept.find("json") != std::string::npos && accept.find("wadl") == std::string::npos;
    http::Response response;
    if (json) {
      nlohmann::json tree = JsonResource(*resource, path);
      response = http::Response::Json({{"base", BaseOf(request)}, {"resources", nlohmann::json::array({tree})}});
    } else {
      response = http::Response{200, "application/vnd.sun.wadl+xml", CapabilitiesWadl(BaseOf(request), path), {}};
    }
    response.headers["Allow"] = fmt::format("{}", fmt::join(router.AllowedMethods(request.path), ", "));
    return response;
  };
  std::vector<std::string> patterns{kRoot};
  Patterns(Tree(), kRoot, patterns);
  for (const auto& pattern : patterns) router.Add("OPTIONS", pattern, handler);
}

}  // namespace dx::dicomweb
