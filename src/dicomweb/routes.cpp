#include "dicomweb/routes.hpp"

#include <fmt/format.h>

#include "archive/query.hpp"
#include "dicom/json_model.hpp"
#include "dicomweb/qido.hpp"

namespace dx::dicomweb {
namespace {

namespace tags = dicom::tags;
using storage::QueryLevel;

constexpr dicom::Tag kRetrieveUrl{0x0008, 0x1190};
constexpr char kDicomJson[] = "application/dicom+json";

std::string BaseUrl(const http::Request& request) {
  auto host = request.headers.find("host");
  return fmt::format("http://{}{}", host == request.headers.end() ? "localhost" : host->second, kRoot);
}

std::vector<std::string> AuditEntities(const dicom::Attributes& identifier) {
  std::vector<std::string> entities;
  for (const auto& element : identifier.elements()) {
    if (!element.value.empty() && !(element.tag == tags::kQueryRetrieveLevel)) {
      entities.push_back("key:" + dicom::ToString(element.tag) + "=" + element.value);
    }
  }
  return entities;
}

http::Response Search(const http::Request& request, QueryLevel level, storage::InstanceIndex& index,
                      audit::AuditTrail& audit, const std::string& ae_title) {
  std::map<dicom::Tag, std::string> path_uids;
  if (auto study = request.params.find("study"); study != request.params.end()) {
    path_uids[tags::kStudyInstanceUid] = study->second;
  }
  if (auto series = request.params.find("series"); series != request.params.end()) {
    path_uids[tags::kSeriesInstanceUid] = series->second;
  }
  auto qido = ParseQido(level, request.query, path_uids);
  if (!qido) throw Error(qido.error());
  auto query = archive::QueryFromIdentifier(qido->identifier, false);
  if (!query) throw Error(query.error());
  query->limit = qido->limit;
  query->offset = qido->offset;
  auto rows = index.Search(*query);
  audit.Record({"http", "dicomweb.search", rows ? fmt::format("success matches={}", rows->size()) : rows.error().message,
                AuditEntities(qido->identifier), ""});
  if (!rows) throw Error(rows.error());

  const std::string base = BaseUrl(request);
  std::string body = "[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    dicom::Attributes attributes = archive::ResponseFor(qido->identifier, level, row, ae_title);
    attributes.Set(tags::kQueryRetrieveLevel, "CS", "");  // not part of a QIDO-RS answer
    std::string url = fmt::format("{}/studies/{}", base, row.attributes.study_instance_uid);
    if (level >= QueryLevel::kSeries) url += "/series/" + row.attributes.series_instance_uid;
    if (level >= QueryLevel::kInstance) url += "/instances/" + row.attributes.sop_instance_uid;
    attributes.Set(kRetrieveUrl, "UR", url);
    auto json = dicom::ToDicomJson(attributes);
    json.erase("00080052");
    if (i) body += ',';
    body += json.dump();
  }
  body += ']';
  http::Response response{200, kDicomJson, std::move(body), {}};
  if (qido->fuzzy_requested) {
    response.headers["Warning"] =
        "299 dxhub: The fuzzymatching parameter is not supported. Only literal matching has been performed.";
  }
  return response;
}

http::Response Metadata(const http::Request& request, storage::InstanceIndex& index, audit::AuditTrail& audit) {
  const std::string study = request.params.at("study");
  const auto series_it = request.params.find("series");
  const std::string series = series_it == request.params.end() ? "" : series_it->second;
  auto json = index.InstanceJson(study, series);
  audit.Record({"http", "dicomweb.metadata", json ? fmt::format("success instances={}", json->size()) : json.error().message,
                {"study:" + study + (series.empty() ? "" : " series:" + series)}, ""});
  if (!json) throw Error(json.error());
  if (json->empty()) {
    throw Error(ErrorCode::kNotFound,
                series.empty() ? fmt::format("no study {}", study) : fmt::format("no series {} in study {}", series, study));
  }
  // The JSON of each instance was made at ingest: the answer is their concatenation.
  std::size_t size = 2;
  for (const auto& instance : *json) size += instance.size() + 1;
  std::string body;
  body.reserve(size);
  body += '[';
  for (std::size_t i = 0; i < json->size(); ++i) {
    if (i) body += ',';
    body += (*json)[i];
  }
  body += ']';
  return http::Response{200, kDicomJson, std::move(body), {}};
}

}  // namespace

void RegisterRoutes(http::Router& router, storage::InstanceIndex& index, audit::AuditTrail& audit,
                    const std::string& ae_title) {
  const std::string root = kRoot;
  auto search = [&index, &audit, ae_title](QueryLevel level) {
    return [&index, &audit, ae_title, level](const http::Request& request) {
      return Search(request, level, index, audit, ae_title);
    };
  };
  router.Add("GET", root + "/studies", search(QueryLevel::kStudy));
  router.Add("GET", root + "/series", search(QueryLevel::kSeries));
  router.Add("GET", root + "/instances", search(QueryLevel::kInstance));
  router.Add("GET", root + "/studies/{study}/series", search(QueryLevel::kSeries));
  router.Add("GET", root + "/studies/{study}/instances", search(QueryLevel::kInstance));
  router.Add("GET", root + "/studies/{study}/series/{series}/instances", search(QueryLevel::kInstance));
  auto metadata = [&index, &audit](const http::Request& request) { return Metadata(request, index, audit); };
  router.Add("GET", root + "/studies/{study}/metadata", metadata);
  router.Add("GET", root + "/studies/{study}/series/{series}/metadata", metadata);
}

}  // namespace dx::dicomweb
