#include "dicomweb/wado_uri.hpp"

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/uid.hpp"
#include "dicom/pixels.hpp"
#include "dicomweb/accept.hpp"

namespace dx::dicomweb {
namespace {

int WadoUriInteger(const std::string& name, const std::string& text, int low, int high) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw Error(ErrorCode::kInvalidInput, fmt::format("{} must be a whole number from {} to {}", name, low, high));
  }
  return value;
}

double WadoUriDecimal(const std::string& name, const std::string& text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw Error(ErrorCode::kInvalidInput, fmt::format("{} must be a number", name));
  }
  return value;
}

http::Response WadoUri(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                       audit::AuditTrail& audit) {
  static const std::set<std::string> kKnown = {
      "requestType", "studyUID", "seriesUID", "objectUID", "contentType", "charset", "anonymize", "annotation",
      "rows", "columns", "region", "windowCenter", "windowWidth", "frameNumber", "imageQuality",
      "presentationUID", "presentationSeriesUID", "transferSyntax"};
  std::map<std::string, std::string> parameters;
  for (const auto& [key, value] : request.query) {
    if (!kKnown.count(key)) throw Error(ErrorCode::kInvalidInput, fmt::format("unknown WADO-URI parameter '{}'", key));
    if (!parameters.emplace(key, value).second) {
      throw Error(ErrorCode::kInvalidInput, fmt::format("parameter '{}' is given twice", key));
    }
  }
  auto required = [&parameters](const char* name) -> const std::string& {
    auto it = parameters.find(name);
    if (it == parameters.end() || it->second.empty()) {
      throw Error(ErrorCode::kInvalidInput, fmt::format("WADO-URI needs the parameter {}", name));
    }
    return it->second;
  };
  if (required("requestType") != "WADO") throw Error(ErrorCode::kInvalidInput, "requestType must be WADO");
  const std::string& study = required("studyUID");
  const std::string& series = required("seriesUID");
  const std::string& object = required("objectUID");
  for (const auto* uid : {&study, &series, &object}) {
    if (!IsValidUid(*uid)) throw Error(ErrorCode::kInvalidInput, fmt::format("'{}' is not a valid UID", *uid));
  }
  for (const char* unsupported : {"region", "presentationUID", "presentationSeriesUID", "anonymize"}) {
    if (parameters.count(unsupported)) {
      return http::Response::Problem(400, fmt::format("the WADO-URI parameter {} is not supported", unsupported));
    }
  }
  std::string content_type = "image/jpeg";
  if (auto it = parameters.find("contentType"); it != parameters.end()) content_type = it->second;
  auto found = index.FindInstance(object);
  if (!found) throw Error(found.error());
  if (!*found || (*found)->study_instance_uid != study || (*found)->series_instance_uid != series) {
    throw Error(ErrorCode::kNotFound, "no object " + object + " in that study and series");
  }
  const storage::StoredInstance& instance = **found;
  auto path = blobs.PathOf(instance.blob_key);
  if (!path) throw Error(path.error());
  audit.Record({"http", "dicomweb.wado-uri", "success contentType=" + content_type,
                {"study:" + study, "instance:" + object}, ""});

  if (content_type == "application/dicom") {
    std::string syntax = instance.transfer_syntax_uid;
    // "*" (sent by common clients, as in WADO-RS) asks for the stored syntax.
    if (auto it = parameters.find("transferSyntax");
        it != parameters.end() && it->second != syntax && it->second != "*") {
      if (it->second != kExplicitLittleEndian || !dicom::CanTranscodeToExplicitLittleEndian(syntax)) {
        return http::Response::Problem(
            406, syntax == kExplicitLittleEndian || !dicom::CanTranscodeToExplicitLittleEndian(syntax)
                     ? fmt::format("the object is stored as {} and can be sent only as that", syntax)
                     : fmt::format("the object is stored as {} and can be sent as that or as {}", syntax,
                                   kExplicitLittleEndian));
      }
      auto transcoded = dicom::TranscodeToExplicitLittleEndian(*path, blobs.NewStagingPath());
      if (!transcoded) throw Error(transcoded.error());
      return http::Response{200, "application/dicom", std::move(*transcoded), {}};
    }
    std::ifstream in(*path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return http::Response{200, "application/dicom", bytes.str(), {}};
  }
  if (content_type != "image/jpeg" && content_type != "image/png") {
    return http::Response::Problem(406, fmt::format("contentType {} is not available: use application/dicom, "
                                                    "image/jpeg or image/png", content_type));
  }
  dicom::RenderOptions options;
  options.format = content_type == "image/png" ? dicom::ImageFormat::kPng : dicom::ImageFormat::kJpeg;
  if (auto it = parameters.find("frameNumber"); it != parameters.end()) {
    options.frame = WadoUriInteger("frameNumber", it->second, 1, 1 << 20);
  }
  const bool has_center = parameters.count("windowCenter") > 0, has_width = parameters.count("windowWidth") > 0;
  if (has_center != has_width) throw Error(ErrorCode::kInvalidInput, "windowCenter and windowWidth go together");
  if (has_center) {
    options.window_center = WadoUriDecimal("windowCenter", parameters["windowCenter"]);
    options.window_width = WadoUriDecimal("windowWidth", parameters["windowWidth"]);
    if (*options.window_width <= 0) throw Error(ErrorCode::kInvalidInput, "windowWidth must be positive");
  }
  if (parameters.count("rows") || parameters.count("columns")) {
    options.viewport_rows = parameters.count("rows") ? WadoUriInteger("rows", parameters["rows"], 1, 8192) : 8192;
    options.viewport_columns =
        parameters.count("columns") ? WadoUriInteger("columns", parameters["columns"], 1, 8192) : 8192;
  }
  if (auto it = parameters.find("imageQuality"); it != parameters.end()) {
    options.quality = WadoUriInteger("imageQuality", it->second, 1, 100);
  }
  auto image = dicom::RenderFrame(*path, options);
  if (!image && image.error().code == ErrorCode::kUnsupported) return http::Response::Problem(406, image.error().message);
  if (!image) throw Error(image.error());
  return http::Response{200, content_type, std::move(*image), {}};
}

}  // namespace

void RegisterWadoUriRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                           audit::AuditTrail& audit) {
  router.Add("GET", "/wado", [&index, &blobs, &audit](const http::Request& request) {
    return WadoUri(request, index, blobs, audit);
  });
}

}  // namespace dx::dicomweb
