#include "dicomweb/routes.hpp"

#include <fmt/format.h>

#include "archive/query.hpp"
#include "dicom/json_model.hpp"
#include "dicom/pixels.hpp"
#include "dicomweb/accept.hpp"
#include "dicomweb/capabilities.hpp"
#include "dicomweb/pixel_routes.hpp"
#include "dicomweb/wado_uri.hpp"
#include "dicomweb/qido.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/rand.h>

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
  auto query = archive::QueryFromIdentifier(qido->identifier, false, qido->fuzzy_requested);
  if (!query) throw Error(query.error());
  query->limit = qido->limit;
  query->offset = qido->offset;
  auto rows = index.Search(*query);
  audit.Record({"http", "dicomweb.search", rows ? fmt::format("success matches={}", rows->size()) : rows.error().message,
                AuditEntities(qido->identifier), ""});
  if (!rows) throw Error(rows.error());

  const std::string base = BaseUrl(request);
  std::string body = "[";
  body.reserve(rows->size() * 768);
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    dicom::Attributes attributes = archive::ResponseFor(qido->identifier, level, row, ae_title);
    attributes.Erase(tags::kQueryRetrieveLevel);  // not part of a QIDO-RS answer
    std::string url = fmt::format("{}/studies/{}", base, row.attributes.study_instance_uid);
    if (level >= QueryLevel::kSeries) url += "/series/" + row.attributes.series_instance_uid;
    if (level >= QueryLevel::kInstance) url += "/instances/" + row.attributes.sop_instance_uid;
    attributes.Set(kRetrieveUrl, "UR", url);
    if (i) body += ',';
    dicom::AppendDicomJson(attributes, body);
  }
  body += ']';
  return http::Response{200, kDicomJson, std::move(body), {}};
}

http::Response Metadata(const http::Request& request, storage::InstanceIndex& index, audit::AuditTrail& audit) {
  const std::string study = request.params.at("study");
  const auto series_it = request.params.find("series");
  const std::string series = series_it == request.params.end() ? "" : series_it->second;
  const auto instance_it = request.params.find("instance");
  const std::string instance = instance_it == request.params.end() ? "" : instance_it->second;
  auto json = index.InstanceJson(study, series, instance);
  audit.Record({"http", "dicomweb.metadata", json ? fmt::format("success instances={}", json->size()) : json.error().message,
                {"study:" + study + (series.empty() ? "" : " series:" + series) +
                 (instance.empty() ? "" : " instance:" + instance)},
                ""});
  if (!json) throw Error(json.error());
  if (json->empty()) {
    throw Error(ErrorCode::kNotFound, !instance.empty() ? fmt::format("no instance {} in series {} of study {}",
                                                                      instance, series, study)
                                      : !series.empty() ? fmt::format("no series {} in study {}", series, study)
                                                        : fmt::format("no study {}", study));
  }
  // The JSON of each instance was made at ingest: the answer is their concatenation,
  // with the stored relative BulkDataURIs made absolute for this server.
  static constexpr std::string_view kRelativeBulk = "\"BulkDataURI\":\"studies/";
  const std::string absolute_bulk = "\"BulkDataURI\":\"" + BaseUrl(request) + "/studies/";
  std::size_t size = 2;
  for (const auto& instance : *json) size += instance.size() + 1 + 2 * absolute_bulk.size();
  std::string body;
  body.reserve(size);
  body += '[';
  for (std::size_t i = 0; i < json->size(); ++i) {
    if (i) body += ',';
    const std::string_view text = (*json)[i];
    std::size_t from = 0;
    for (std::size_t at = text.find(kRelativeBulk); at != std::string_view::npos; at = text.find(kRelativeBulk, from)) {
      body.append(text.substr(from, at - from));
      body += absolute_bulk;
      from = at + kRelativeBulk.size();
    }
    body.append(text.substr(from));
  }
  body += ']';
  return http::Response{200, kDicomJson, std::move(body), {}};
}

// WADO-RS retrieval of a study, series or instance as multipart/related DICOM
// (PS3.18 §10.4.1), streamed file by file in the stored transfer syntax.
http::Response Retrieve(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                        audit::AuditTrail& audit) {
  const auto accept_header = request.headers.count("accept") ? request.headers.at("accept") : std::string();
  auto accept = NegotiateDicom(accept_header);
  if (!accept) {
    return http::Response::Problem(406, "this resource is available as multipart/related; type=\"application/dicom\"");
  }
  storage::Query query;
  query.level = QueryLevel::kStudy;
  query.matches.push_back({"study_instance_uid", storage::Match::Kind::kSingleValue, {request.params.at("study")}});
  if (auto series = request.params.find("series"); series != request.params.end()) {
    query.level = QueryLevel::kSeries;
    query.matches.push_back({"series_instance_uid", storage::Match::Kind::kSingleValue, {series->second}});
  }
  if (auto instance = request.params.find("instance"); instance != request.params.end()) {
    query.level = QueryLevel::kInstance;
    query.matches.push_back({"sop_instance_uid", storage::Match::Kind::kSingleValue, {instance->second}});
  }
  auto instances = index.ListInstances(query);
  audit.Record({"http", "dicomweb.retrieve",
                instances ? fmt::format("success instances={}", instances->size()) : instances.error().message,
                {"study:" + request.params.at("study")}, ""});
  if (!instances) throw Error(instances.error());
  if (instances->empty()) throw Error(ErrorCode::kNotFound, "no instances at " + request.path);
  // Each instance goes as stored when the client takes that syntax, otherwise decoded
  // to explicit VR little endian when it takes that (PS3.18 §8.7.3.5). Implicit VR
  // and big endian objects are always converted: web services do not use those syntaxes (§8.7.3).
  auto as_stored = [](const DicomAccept& taken, const std::string& syntax) {
    return taken.Accepts(syntax) && syntax != "1.2.840.10008.1.2" && syntax != "1.2.840.10008.1.2.2";
  };
  for (const auto& instance : *instances) {
    if (as_stored(*accept, instance.transfer_syntax_uid)) continue;
    if (!accept->Accepts(kExplicitLittleEndian) || !dicom::CanTranscodeToExplicitLittleEndian(instance.transfer_syntax_uid)) {
      return http::Response::Problem(
          406, fmt::format("an instance is stored in transfer syntax {}, which is not acceptable and cannot be "
                           "transcoded to one that is; ask with transfer-syntax=* or transfer-syntax={}",
                           instance.transfer_syntax_uid, instance.transfer_syntax_uid));
    }
  }
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string boundary = "dxhub-";
  for (unsigned char byte : random) boundary += fmt::format("{:02x}", byte);
  http::Response response;
  response.content_type = fmt::format("multipart/related; type=\"application/dicom\"; boundary={}", boundary);
  response.stream = [&blobs, list = std::move(*instances), boundary, accept = *accept,
                     as_stored](const http::ChunkWriter& write) {
    std::vector<char> buffer(std::size_t{1} << 18);
    for (const auto& instance : list) {
      auto path = blobs.PathOf(instance.blob_key);
      if (!path) return false;
      if (!as_stored(accept, instance.transfer_syntax_uid)) {
        // Decoded and written piece by piece; checked decodable above, so a failure ends the stream.
        if (!write(fmt::format("--{}\r\nContent-Type: application/dicom; transfer-syntax={}\r\n\r\n", boundary,
                               kExplicitLittleEndian)) ||
            !dicom::WriteExplicitLittleEndian(*path, write) || !write("\r\n")) {
          return false;
        }
        continue;
      }
      const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      bool ok = write(fmt::format("--{}\r\nContent-Type: application/dicom; transfer-syntax={}\r\n\r\n", boundary,
                                  instance.transfer_syntax_uid));
      while (ok) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          ok = n == 0;
          break;
        }
        ok = write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      }
      ::close(fd);
      if (!ok || !write("\r\n")) return false;
    }
    return write(fmt::format("--{}--\r\n", boundary));
  };
  return response;
}

}  // namespace

void RegisterRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                    audit::AuditTrail& audit, const std::string& ae_title) {
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
  router.Add("GET", root + "/studies/{study}/series/{series}/instances/{instance}/metadata", metadata);
  auto retrieve = [&index, &blobs, &audit](const http::Request& request) {
    return Retrieve(request, index, blobs, audit);
  };
  router.Add("GET", root + "/studies/{study}", retrieve);
  router.Add("GET", root + "/studies/{study}/series/{series}", retrieve);
  router.Add("GET", root + "/studies/{study}/series/{series}/instances/{instance}", retrieve);
  RegisterPixelRoutes(router, index, blobs, audit);
  RegisterWadoUriRoutes(router, index, blobs, audit);
  RegisterCapabilityRoutes(router);
}

}  // namespace dx::dicomweb
