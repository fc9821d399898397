#include "dicomweb/pixel_routes.hpp"

#include <charconv>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "dicom/pixels.hpp"
#include "dicomweb/accept.hpp"
#include "dicomweb/routes.hpp"

namespace dx::dicomweb {
namespace {

using storage::QueryLevel;

std::string PixelHeader(const http::Request& request, const char* name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

std::optional<double> PixelNumber(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> PixelSplit(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// "1,3,5" → {1, 3, 5}; kInvalidInput for anything else.
std::vector<int> ParseFrameList(const std::string& text) {
  std::vector<int> frames;
  for (auto part : PixelSplit(text, ',')) {
    auto value = PixelNumber(part);
    if (!value || *value < 1 || *value != static_cast<int>(*value)) {
      throw Error(ErrorCode::kInvalidInput, fmt::format("frame list '{}' must be positive whole numbers separated by commas", text));
    }
    frames.push_back(static_cast<int>(*value));
  }
  return frames;
}

// window=center,width[,function] viewport=vw,vh[,...] quality=1..100 (PS3.18 §8.3.5.1).
dicom::RenderOptions ParseRenderParameters(const http::Request& request) {
  dicom::RenderOptions options;
  for (const auto& [key, value] : request.query) {
    if (key == "window") {
      auto parts = PixelSplit(value, ',');
      auto center = parts.size() >= 2 ? PixelNumber(parts[0]) : std::nullopt;
      auto width = parts.size() >= 2 ? PixelNumber(parts[1]) : std::nullopt;
      if (!center || !width || *width <= 0 || parts.size() > 3 ||
          (parts.size() == 3 && parts[2] != "linear" && parts[2] != "LINEAR")) {
        throw Error(ErrorCode::kInvalidInput, "window must be center,width[,linear] with a positive width");
      }
      options.window_center = *center;
      options.window_width = *width;
    } else if (key == "viewport") {
      auto parts = PixelSplit(value, ',');
      auto columns = !parts.empty() ? PixelNumber(parts[0]) : std::nullopt;
      auto rows = parts.size() >= 2 ? PixelNumber(parts[1]) : std::nullopt;
      if (!columns || !rows || *columns < 1 || *rows < 1 || *columns > 8192 || *rows > 8192) {
        throw Error(ErrorCode::kInvalidInput, "viewport must be width,height in pixels (1 to 8192)");
      }
      options.viewport_columns = static_cast<int>(*columns);
      options.viewport_rows = static_cast<int>(*rows);
    } else if (key == "quality") {
      auto quality = PixelNumber(value);
      if (!quality || *quality < 1 || *quality > 100) throw Error(ErrorCode::kInvalidInput, "quality must be 1 to 100");
      options.quality = static_cast<int>(*quality);
    } else if (key != "annotation" && key != "charset") {
      throw Error(ErrorCode::kInvalidInput, fmt::format("unknown rendering parameter '{}' (window, viewport, quality)", key));
    }
  }
  return options;
}

// image/jpeg unless the client asks for PNG only; nullopt when neither is acceptable.
std::optional<dicom::ImageFormat> NegotiateImage(const std::string& accept) {
  if (accept.empty() || accept.find("*/*") != std::string::npos || accept.find("image/*") != std::string::npos ||
      accept.find("image/jpeg") != std::string::npos) {
    return dicom::ImageFormat::kJpeg;
  }
  if (accept.find("image/png") != std::string::npos) return dicom::ImageFormat::kPng;
  return std::nullopt;
}

// The stored instance at the request's study/series/instance path, or 404.
storage::StoredInstance FindPathInstance(const http::Request& request, storage::InstanceIndex& index) {
  const std::string& sop = request.params.at("instance");
  auto found = index.FindInstance(sop);
  if (!found) throw Error(found.error());
  if (!*found || (*found)->study_instance_uid != request.params.at("study") ||
      (*found)->series_instance_uid != request.params.at("series")) {
    throw Error(ErrorCode::kNotFound, "no instance " + sop + " in that study and series");
  }
  return **found;
}

// The middle instance of the study or series at the request's path (thumbnails).
storage::StoredInstance RepresentativeInstance(const http::Request& request, storage::InstanceIndex& index) {
  if (request.params.count("instance")) return FindPathInstance(request, index);
  storage::Query query;
  query.level = QueryLevel::kStudy;
  query.matches.push_back({"study_instance_uid", storage::Match::Kind::kSingleValue, {request.params.at("study")}});
  if (auto series = request.params.find("series"); series != request.params.end()) {
    query.level = QueryLevel::kSeries;
    query.matches.push_back({"series_instance_uid", storage::Match::Kind::kSingleValue, {series->second}});
  }
  auto list = index.ListInstances(query);
  if (!list) throw Error(list.error());
  if (list->empty()) throw Error(ErrorCode::kNotFound, "no instances at " + request.path);
  // Within the first series, the middle slice: it shows the anatomy better than the first.
  const std::string first_series = list->front().series_instance_uid;
  std::size_t count = 0;
  while (count < list->size() && (*list)[count].series_instance_uid == first_series) ++count;
  return (*list)[count / 2];
}

std::string PixelPath(storage::BlobStore& blobs, const storage::StoredInstance& instance) {
  auto path = blobs.PathOf(instance.blob_key);
  if (!path) throw Error(path.error());
  return *path;
}

http::Response Frames(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                      audit::AuditTrail& audit) {
  const std::string accept = PixelHeader(request, "accept");
  if (!accept.empty() && accept.find("*/*") == std::string::npos &&
      accept.find("application/octet-stream") == std::string::npos && accept.find("transfer-syntax=*") == std::string::npos) {
    return http::Response::Problem(
        406, "frames are served uncompressed: ask for multipart/related; type=\"application/octet-stream\" "
             "(or transfer-syntax=*)");
  }
  const std::vector<int> numbers = ParseFrameList(request.params.at("frames"));
  const storage::StoredInstance instance = FindPathInstance(request, index);
  auto frames = dicom::ReadFrames(PixelPath(blobs, instance), numbers);
  audit.Record({"http", "dicomweb.frames", frames ? fmt::format("success frames={}", numbers.size()) : frames.error().message,
                {"study:" + instance.study_instance_uid, "instance:" + instance.sop_instance_uid}, ""});
  if (!frames && frames.error().code == ErrorCode::kUnsupported) {
    return http::Response::Problem(406, frames.error().message + "; retrieve the instance in its stored syntax instead");
  }
  if (!frames) throw Error(frames.error());
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string boundary = "dxhub-frames-";
  for (unsigned char byte : random) boundary += fmt::format("{:02x}", byte);
  std::string body;
  for (std::size_t i = 0; i < frames->size(); ++i) {
    body += fmt::format("--{}\r\nContent-Type: application/octet-stream; transfer-syntax={}\r\nContent-Location: {}\r\n\r\n",
                        boundary, kExplicitLittleEndian, request.path);
    body += (*frames)[i];
    body += "\r\n";
  }
  body += fmt::format("--{}--\r\n", boundary);
  return http::Response{
      200, fmt::format("multipart/related; type=\"application/octet-stream\"; boundary={}", boundary), std::move(body), {}};
}

// The value behind a BulkDataURI of the stored metadata.
http::Response BulkData(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                        audit::AuditTrail& audit) {
  const std::string& tag = request.params.at("tag");
  unsigned value = 0;
  auto [end, error] = std::from_chars(tag.data(), tag.data() + tag.size(), value, 16);
  if (tag.size() != 8 || error != std::errc() || end != tag.data() + tag.size()) {
    throw Error(ErrorCode::kInvalidInput, fmt::format("bulk data tag '{}' must be 8 hexadecimal digits (GGGGEEEE)", tag));
  }
  const storage::StoredInstance instance = FindPathInstance(request, index);
  auto bytes = dicom::ReadBulkData(PixelPath(blobs, instance), value >> 16, value & 0xFFFF);
  audit.Record({"http", "dicomweb.bulkdata", bytes ? "success" : bytes.error().message,
                {"study:" + instance.study_instance_uid, "instance:" + instance.sop_instance_uid}, ""});
  if (!bytes) throw Error(bytes.error());
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string boundary = "dxhub-bulk-";
  for (unsigned char byte : random) boundary += fmt::format("{:02x}", byte);
  std::string body = fmt::format("--{}\r\nContent-Type: application/octet-stream\r\n\r\n", boundary);
  body += *bytes;
  body += fmt::format("\r\n--{}--\r\n", boundary);
  return http::Response{
      200, fmt::format("multipart/related; type=\"application/octet-stream\"; boundary={}", boundary), std::move(body), {}};
}

http::Response Rendered(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                        audit::AuditTrail& audit, bool thumbnail) {
  auto format = NegotiateImage(PixelHeader(request, "accept"));
  if (!format) return http::Response::Problem(406, "rendered images are available as image/jpeg or image/png");
  dicom::RenderOptions options = ParseRenderParameters(request);
  options.format = *format;
  if (auto frames = request.params.find("frames"); frames != request.params.end()) {
    const auto numbers = ParseFrameList(frames->second);
    if (numbers.size() != 1) throw Error(ErrorCode::kInvalidInput, "render one frame at a time");
    options.frame = numbers.front();
  }
  if (thumbnail && options.viewport_columns == 0) {
    options.viewport_columns = 128;
    options.viewport_rows = 128;
  }
  const storage::StoredInstance instance = RepresentativeInstance(request, index);
  auto image = dicom::RenderFrame(PixelPath(blobs, instance), options);
  audit.Record({"http", thumbnail ? "dicomweb.thumbnail" : "dicomweb.rendered",
                image ? "success" : image.error().message,
                {"study:" + instance.study_instance_uid, "instance:" + instance.sop_instance_uid}, ""});
  if (!image && image.error().code == ErrorCode::kUnsupported) return http::Response::Problem(406, image.error().message);
  if (!image) throw Error(image.error());
  return http::Response{200, *format == dicom::ImageFormat::kPng ? "image/png" : "image/jpeg", std::move(*image), {}};
}

}  // namespace

void RegisterPixelRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                         audit::AuditTrail& audit) {
  const std::string root = kRoot;
  const std::string instance = root + "/studies/{study}/series/{series}/instances/{instance}";
  router.Add("GET", instance + "/frames/{frames}", [&index, &blobs, &audit](const http::Request& request) {
    return Frames(request, index, blobs, audit);
  });
  auto rendered = [&index, &blobs, &audit](bool thumbnail) {
    return [&index, &blobs, &audit, thumbnail](const http::Request& request) {
      return Rendered(request, index, blobs, audit, thumbnail);
    };
  };
  router.Add("GET", instance + "/bulk/{tag}", [&index, &blobs, &audit](const http::Request& request) {
    return BulkData(request, index, blobs, audit);
  });
  router.Add("GET", instance + "/rendered", rendered(false));
  router.Add("GET", instance + "/frames/{frames}/rendered", rendered(false));
  for (const std::string& path : {root + "/studies/{study}", root + "/studies/{study}/series/{series}", instance,
                                  instance + "/frames/{frames}"}) {
    router.Add("GET", path + "/thumbnail", rendered(true));
  }
}

}  // namespace dx::dicomweb
