#include "dicomweb/pixel_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "dicom/pixels.hpp"
#include "dicomweb/accept.hpp"
#include "dicomweb/routes.hpp"

namespace dx::dicomweb {
namespace {

using storage::QueryLevel;

constexpr char kPixelOctetStream[] = "application/octet-stream";
constexpr char kPixelDataTag[] = "7FE00010";

std::string PixelHeader(const http::Request& request, const char* name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

std::string_view PixelTrim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string PixelLower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<double> PixelNumber(std::string_view text) {
  text = PixelTrim(text);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int> PixelInteger(std::string_view text) {
  auto value = PixelNumber(text);
  if (!value || *value != static_cast<double>(static_cast<int>(*value))) return std::nullopt;
  return static_cast<int>(*value);
}

// Splits on `separator` outside double quotes.
std::vector<std::string_view> PixelSplit(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (text[i] == separator && !quoted) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::string PixelBoundary(std::string_view prefix) {
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string boundary(prefix);
  for (unsigned char byte : random) boundary += fmt::format("{:02x}", byte);
  return boundary;
}

// One media range of an Accept header (RFC 9110 §12.5.1) with the PS3.18 §8.7.3
// parameters dxhub looks at.
struct PixelMediaRange {
  std::string media;   // lower case, e.g. multipart/related
  std::string type;    // the multipart type parameter, lower case, unquoted
  std::string syntax;  // transfer-syntax parameter; empty when absent
  double quality = 1;
};

// The ranges with q > 0, most preferred first (ties keep the client's order).
std::vector<PixelMediaRange> PixelParseAccept(const std::string& header) {
  std::vector<PixelMediaRange> ranges;
  for (auto range : PixelSplit(header, ',')) {
    auto fields = PixelSplit(range, ';');
    PixelMediaRange parsed;
    parsed.media = PixelLower(PixelTrim(fields[0]));
    if (parsed.media.empty()) continue;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const auto eq = fields[i].find('=');
      if (eq == std::string_view::npos) continue;
      const std::string name = PixelLower(PixelTrim(fields[i].substr(0, eq)));
      std::string_view value = PixelTrim(fields[i].substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (name == "type") parsed.type = PixelLower(value);
      if (name == "transfer-syntax") parsed.syntax = std::string(value);
      if (name == "q") parsed.quality = PixelNumber(value).value_or(0);
    }
    if (parsed.quality > 0) ranges.push_back(std::move(parsed));
  }
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const PixelMediaRange& a, const PixelMediaRange& b) { return a.quality > b.quality; });
  return ranges;
}

// The media type of compressed bulk data in `syntax` (PS3.18 Table 8.7.3-5).
std::string PixelMediaTypeOf(const std::string& syntax) {
  static const std::map<std::string, std::string> kTypes = {
      {"1.2.840.10008.1.2.4.50", "image/jpeg"},      {"1.2.840.10008.1.2.4.51", "image/jpeg"},
      {"1.2.840.10008.1.2.4.57", "image/jpeg"},      {"1.2.840.10008.1.2.4.70", "image/jpeg"},
      {"1.2.840.10008.1.2.4.80", "image/jls"},       {"1.2.840.10008.1.2.4.81", "image/jls"},
      {"1.2.840.10008.1.2.4.90", "image/jp2"},       {"1.2.840.10008.1.2.4.91", "image/jp2"},
      {"1.2.840.10008.1.2.4.92", "image/jpx"},       {"1.2.840.10008.1.2.4.93", "image/jpx"},
      {"1.2.840.10008.1.2.5", "image/dicom-rle"},    {"1.2.840.10008.1.2.4.100", "video/mpeg"},
      {"1.2.840.10008.1.2.4.101", "video/mpeg"},     {"1.2.840.10008.1.2.4.102", "video/mp4"},
      {"1.2.840.10008.1.2.4.103", "video/mp4"},      {"1.2.840.10008.1.2.4.104", "video/mp4"},
      {"1.2.840.10008.1.2.4.105", "video/mp4"},      {"1.2.840.10008.1.2.4.106", "video/mp4"},
      {"1.2.840.10008.1.2.4.107", "video/H265"},     {"1.2.840.10008.1.2.4.108", "video/H265"}};
  auto it = kTypes.find(syntax);
  return it == kTypes.end() ? kPixelOctetStream : it->second;
}

bool PixelSameMediaType(const std::string& asked, const std::string& ours) {
  if (asked == ours) return true;
  return (asked == "image/x-dicom-rle" && ours == "image/dicom-rle") || (asked == "image/x-jls" && ours == "image/jls");
}

struct PixelChoice {
  dicom::FrameEncoding encoding = dicom::FrameEncoding::kUncompressed;
  std::string media_type;  // of each part
};

// How to answer a frames or Pixel Data bulk request for an instance stored in
// `stored` (PS3.18 §8.7.3.3, §8.7.3.5.2): uncompressed little endian in
// application/octet-stream (the default), or each frame's stored bitstream when the
// client takes the stored syntax (transfer-syntax=* or its UID, or its media type).
// When the client takes anything and the frames cannot be decoded, they go as stored.
std::optional<PixelChoice> PixelNegotiate(const std::string& accept, const std::string& stored) {
  const bool encapsulated = dicom::IsEncapsulatedSyntax(stored);
  const bool decodable = dicom::CanTranscodeToExplicitLittleEndian(stored);
  const std::string stored_media = encapsulated ? PixelMediaTypeOf(stored) : kPixelOctetStream;
  const PixelChoice uncompressed{dicom::FrameEncoding::kUncompressed, kPixelOctetStream};
  auto ranges = PixelParseAccept(accept);
  if (PixelTrim(accept).empty()) ranges.push_back(PixelMediaRange{"*/*", "", "", 1});
  for (const auto& range : ranges) {
    const bool wildcard = range.media == "*/*" || range.media == "multipart/*";
    if (!wildcard && range.media != "multipart/related") continue;
    const std::string type = wildcard ? "" : range.type;
    const bool any_type = type.empty() || type == "*/*";
    if (any_type || type == kPixelOctetStream) {
      const PixelChoice as_stored{dicom::FrameEncoding::kAsStored, any_type ? stored_media : kPixelOctetStream};
      if (range.syntax.empty() || range.syntax == kExplicitLittleEndian) {
        if (decodable) return uncompressed;
        if (any_type && range.syntax.empty()) return as_stored;
        continue;
      }
      if (range.syntax == "*") return encapsulated ? as_stored : uncompressed;
      if (encapsulated && range.syntax == stored) return as_stored;
      continue;
    }
    if (encapsulated && PixelSameMediaType(type, stored_media) &&
        (range.syntax.empty() || range.syntax == "*" || range.syntax == stored)) {
      return PixelChoice{dicom::FrameEncoding::kAsStored, type};
    }
  }
  return std::nullopt;
}

std::string PixelNotAcceptable(const std::string& stored) {
  if (!dicom::IsEncapsulatedSyntax(stored)) {
    return "the pixel data is uncompressed: ask for multipart/related; type=\"application/octet-stream\"";
  }
  const std::string stored_form =
      fmt::format("multipart/related; type=\"{}\"; transfer-syntax={} (as stored)", PixelMediaTypeOf(stored), stored);
  if (!dicom::CanTranscodeToExplicitLittleEndian(stored)) {
    return fmt::format("the pixel data is stored in transfer syntax {}, which dxhub cannot decode: ask for {}, "
                       "or transfer-syntax=*",
                       stored, stored_form);
  }
  return fmt::format("ask for multipart/related; type=\"application/octet-stream\" (uncompressed) or {}", stored_form);
}

// "1,3,5" → {1, 3, 5} (PS3.18 §8.3.4); 400 for anything else.
std::vector<int> PixelFrameList(const std::string& text) {
  std::vector<int> frames;
  for (auto part : PixelSplit(text, ',')) {
    auto value = PixelInteger(part);
    if (!value || *value < 1) {
      throw Error(ErrorCode::kInvalidInput,
                  fmt::format("frame list '{}' must be positive whole numbers separated by commas", text));
    }
    frames.push_back(*value);
  }
  return frames;
}

// window=center,width[,function] viewport=vw,vh[,sx,sy,sw,sh] quality=1..100 (PS3.18
// §8.3.5.1). Other parameters (annotation, charset, …) are ignored, as §8.3 asks.
dicom::RenderOptions PixelRenderParameters(const http::Request& request) {
  dicom::RenderOptions options;
  for (const auto& [key, value] : request.query) {
    if (key == "window") {
      auto parts = PixelSplit(value, ',');
      auto center = parts.size() >= 2 ? PixelNumber(parts[0]) : std::nullopt;
      auto width = parts.size() >= 2 ? PixelNumber(parts[1]) : std::nullopt;
      std::string function = parts.size() == 3 ? PixelLower(PixelTrim(parts[2])) : "linear";
      std::replace(function.begin(), function.end(), '_', '-');
      const bool known = function == "linear" || function == "linear-exact" || function == "sigmoid";
      if (!center || !width || parts.size() > 3 || !known || *width <= 0 || (function == "linear" && *width < 1)) {
        throw Error(ErrorCode::kInvalidInput,
                    fmt::format("window '{}' must be center,width[,function]: numbers, a width of at least 1 "
                                "(above 0 for linear-exact and sigmoid), function linear, linear-exact or sigmoid",
                                value));
      }
      options.window_center = *center;
      options.window_width = *width;
      options.window_function = function == "sigmoid"        ? dicom::WindowFunction::kSigmoid
                                : function == "linear-exact" ? dicom::WindowFunction::kLinearExact
                                                             : dicom::WindowFunction::kLinear;
    } else if (key == "viewport") {
      auto parts = PixelSplit(value, ',');
      // An empty vw or vh leaves that side free: the image fits the other one.
      auto side = [](std::string_view text) -> std::optional<int> {
        if (PixelTrim(text).empty()) return 8192;
        auto number = PixelInteger(text);
        if (!number || *number < 1 || *number > 8192) return std::nullopt;
        return number;
      };
      auto columns = parts.size() >= 2 ? side(parts[0]) : std::nullopt;
      auto rows = parts.size() >= 2 ? side(parts[1]) : std::nullopt;
      const bool both_empty = parts.size() >= 2 && PixelTrim(parts[0]).empty() && PixelTrim(parts[1]).empty();
      std::optional<int> sx, sy, sw, sh;
      if (parts.size() == 6) {
        sx = PixelInteger(parts[2]);
        sy = PixelInteger(parts[3]);
        sw = PixelInteger(parts[4]);
        sh = PixelInteger(parts[5]);
      }
      const bool region_ok = parts.size() == 2 || (parts.size() == 6 && sx && sy && sw && sh && *sx >= 0 &&
                                                   *sy >= 0 && *sw != 0 && *sh != 0);
      if (!columns || !rows || both_empty || !region_ok) {
        throw Error(ErrorCode::kInvalidInput,
                    fmt::format("viewport '{}' must be vw,vh (1 to 8192 pixels) optionally followed by the source "
                                "region sx,sy,sw,sh (whole numbers, sw and sh not 0)",
                                value));
      }
      options.viewport_columns = *columns;
      options.viewport_rows = *rows;
      if (parts.size() == 6) {
        options.region_left = *sx;
        options.region_top = *sy;
        options.region_columns = *sw;
        options.region_rows = *sh;
      }
    } else if (key == "quality") {
      auto quality = PixelInteger(value);
      if (!quality || *quality < 1 || *quality > 100) {
        throw Error(ErrorCode::kInvalidInput, fmt::format("quality '{}' must be a whole number from 1 to 100", value));
      }
      options.quality = *quality;
    }
  }
  return options;
}

// image/jpeg unless PNG is preferred (PS3.18 §8.7.4: JPEG is the default rendered
// type); multipart/related; type=… is read the same way. nullopt: neither acceptable.
std::optional<dicom::ImageFormat> PixelImageFormat(const std::string& accept) {
  if (PixelTrim(accept).empty()) return dicom::ImageFormat::kJpeg;
  for (const auto& range : PixelParseAccept(accept)) {
    std::string media = range.media;
    if (media == "multipart/related") media = range.type.empty() ? "image/jpeg" : range.type;
    if (media == "image/jpeg" || media == "image/*" || media == "*/*") return dicom::ImageFormat::kJpeg;
    if (media == "image/png") return dicom::ImageFormat::kPng;
  }
  return std::nullopt;
}

const char* PixelImageType(dicom::ImageFormat format) {
  return format == dicom::ImageFormat::kPng ? "image/png" : "image/jpeg";
}

std::string PixelInstanceUrl(const storage::StoredInstance& instance) {
  return fmt::format("{}/studies/{}/series/{}/instances/{}", kRoot, instance.study_instance_uid,
                     instance.series_instance_uid, instance.sop_instance_uid);
}

std::vector<std::string> PixelAuditEntities(const http::Request& request) {
  std::vector<std::string> entities{"study:" + request.params.at("study")};
  if (auto series = request.params.find("series"); series != request.params.end()) {
    entities.push_back("series:" + series->second);
  }
  if (auto instance = request.params.find("instance"); instance != request.params.end()) {
    entities.push_back("instance:" + instance->second);
  }
  return entities;
}

// The instance at the request's study/series/instance path; audits and throws 404 otherwise.
storage::StoredInstance PixelPathInstance(const http::Request& request, storage::InstanceIndex& index,
                                          audit::AuditTrail& audit, const char* action) {
  const std::string& sop = request.params.at("instance");
  auto found = index.FindInstance(sop);
  if (!found) throw Error(found.error());
  if (!*found || (*found)->study_instance_uid != request.params.at("study") ||
      (*found)->series_instance_uid != request.params.at("series")) {
    const std::string detail = "no instance " + sop + " in that study and series";
    audit.Record({"http", action, detail, PixelAuditEntities(request), ""});
    throw Error(ErrorCode::kNotFound, detail);
  }
  return **found;
}

// The instances under the request's study or series path, in series and instance order.
std::vector<storage::StoredInstance> PixelPathInstances(const http::Request& request, storage::InstanceIndex& index,
                                                        audit::AuditTrail& audit, const char* action) {
  storage::Query query;
  query.level = QueryLevel::kStudy;
  query.matches.push_back({"study_instance_uid", storage::Match::Kind::kSingleValue, {request.params.at("study")}});
  if (auto series = request.params.find("series"); series != request.params.end()) {
    query.level = QueryLevel::kSeries;
    query.matches.push_back({"series_instance_uid", storage::Match::Kind::kSingleValue, {series->second}});
  }
  auto list = index.ListInstances(query);
  if (!list) throw Error(list.error());
  if (list->empty()) {
    const std::string detail = "no instances at " + request.path;
    audit.Record({"http", action, detail, PixelAuditEntities(request), ""});
    throw Error(ErrorCode::kNotFound, detail);
  }
  return std::move(*list);
}

// The image a thumbnail shows: the instance asked, or the middle instance of the
// (first) series — it shows the anatomy better than the first slice.
storage::StoredInstance PixelRepresentative(const http::Request& request, storage::InstanceIndex& index,
                                            audit::AuditTrail& audit, const char* action) {
  if (request.params.count("instance")) return PixelPathInstance(request, index, audit, action);
  auto list = PixelPathInstances(request, index, audit, action);
  const std::string first_series = list.front().series_instance_uid;
  std::size_t count = 0;
  while (count < list.size() && list[count].series_instance_uid == first_series) ++count;
  return list[count / 2];
}

std::string PixelBlobPath(storage::BlobStore& blobs, const storage::StoredInstance& instance) {
  auto path = blobs.PathOf(instance.blob_key);
  if (!path) throw Error(path.error());
  return *path;
}

void PixelAudit(audit::AuditTrail& audit, const char* action, const std::string& outcome,
                const storage::StoredInstance& instance) {
  audit.Record({"http", action, outcome,
                {"study:" + instance.study_instance_uid, "instance:" + instance.sop_instance_uid}, ""});
}

// A pixel-reading failure as an answer: 400 for a bad frame number, 406 when the
// frames cannot be produced in an acceptable form; anything else ends the request.
http::Response PixelFailure(const ErrorInfo& error) {
  if (error.code == ErrorCode::kInvalidInput) return http::Response::Problem(400, error.message);
  if (error.code == ErrorCode::kUnsupported) return http::Response::Problem(406, error.message);
  throw Error(error);
}

// Frames as multipart/related parts, each labelled with its transfer syntax and frame URL.
http::Response PixelFramesAnswer(const dicom::FrameSet& set, const std::string& media_type,
                                 const std::vector<int>& numbers, const std::string& instance_url) {
  const std::string boundary = PixelBoundary("dxhub-frames-");
  std::size_t size = 64;
  for (const auto& frame : set.frames) size += frame.size() + 256 + instance_url.size();
  std::string body;
  body.reserve(size);
  for (std::size_t i = 0; i < set.frames.size(); ++i) {
    body += fmt::format("--{}\r\nContent-Type: {}; transfer-syntax={}\r\nContent-Location: {}/frames/{}\r\n\r\n",
                        boundary, media_type, set.transfer_syntax, instance_url, numbers[i]);
    body += set.frames[i];
    body += "\r\n";
  }
  body += fmt::format("--{}--\r\n", boundary);
  return http::Response{200,
                        fmt::format("multipart/related; type=\"{}\"; transfer-syntax={}; boundary={}", media_type,
                                    set.transfer_syntax, boundary),
                        std::move(body), {}};
}

// GET …/instances/{instance}/frames/{frames} (PS3.18 §10.4.1.1.5).
http::Response PixelFramesRoute(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                                audit::AuditTrail& audit) {
  const std::vector<int> numbers = PixelFrameList(request.params.at("frames"));
  const storage::StoredInstance instance = PixelPathInstance(request, index, audit, "dicomweb.frames");
  auto choice = PixelNegotiate(PixelHeader(request, "accept"), instance.transfer_syntax_uid);
  if (!choice) {
    PixelAudit(audit, "dicomweb.frames", "not acceptable", instance);
    return http::Response::Problem(406, PixelNotAcceptable(instance.transfer_syntax_uid));
  }
  auto frames = dicom::ReadFrames(PixelBlobPath(blobs, instance), numbers, choice->encoding);
  PixelAudit(audit, "dicomweb.frames", frames ? fmt::format("success frames={}", numbers.size()) : frames.error().message,
             instance);
  if (!frames) return PixelFailure(frames.error());
  return PixelFramesAnswer(*frames, choice->media_type, numbers, PixelInstanceUrl(instance));
}

// GET …/instances/{instance}/bulk/{GGGGEEEE}: the value behind a BulkDataURI of the
// metadata (PS3.18 §10.4.1.1.6). Pixel Data is negotiated like frames.
http::Response PixelBulkRoute(const http::Request& request, storage::InstanceIndex& index, storage::BlobStore& blobs,
                              audit::AuditTrail& audit) {
  std::string tag = request.params.at("tag");
  unsigned value = 0;
  auto [end, error] = std::from_chars(tag.data(), tag.data() + tag.size(), value, 16);
  if (tag.size() != 8 || error != std::errc() || end != tag.data() + tag.size()) {
    throw Error(ErrorCode::kInvalidInput, fmt::format("bulk data tag '{}' must be 8 hexadecimal digits (GGGGEEEE)", tag));
  }
  std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::toupper(c); });
  const storage::StoredInstance instance = PixelPathInstance(request, index, audit, "dicomweb.bulkdata");
  const std::string accept = PixelHeader(request, "accept");
  const std::string path = PixelBlobPath(blobs, instance);
  const std::string url = PixelInstanceUrl(instance);
  std::string bytes;
  if (tag == kPixelDataTag) {
    auto choice = PixelNegotiate(accept, instance.transfer_syntax_uid);
    if (!choice) {
      PixelAudit(audit, "dicomweb.bulkdata", "not acceptable", instance);
      return http::Response::Problem(406, PixelNotAcceptable(instance.transfer_syntax_uid));
    }
    auto frames = dicom::ReadFrames(path, {}, choice->encoding);
    PixelAudit(audit, "dicomweb.bulkdata", frames ? "success tag=" + tag : frames.error().message, instance);
    if (!frames) return PixelFailure(frames.error());
    if (frames->transfer_syntax != kExplicitLittleEndian) {
      // Compressed: one part per frame (PS3.18 §8.7.3.3.2).
      std::vector<int> numbers(frames->frames.size());
      for (std::size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<int>(i) + 1;
      return PixelFramesAnswer(*frames, choice->media_type, numbers, url);
    }
    // Uncompressed: all frames, one after another, in one part.
    if (frames->frames.size() == 1) {
      bytes = std::move(frames->frames.front());
    } else {
      std::size_t size = 0;
      for (const auto& frame : frames->frames) size += frame.size();
      bytes.reserve(size);
      for (const auto& frame : frames->frames) bytes += frame;
    }
  } else {
    if (!PixelNegotiate(accept, kExplicitLittleEndian)) {
      PixelAudit(audit, "dicomweb.bulkdata", "not acceptable", instance);
      return http::Response::Problem(406,
                                     "bulk data is available as multipart/related; type=\"application/octet-stream\"");
    }
    auto read = dicom::ReadBulkData(path, value >> 16, value & 0xFFFF);
    PixelAudit(audit, "dicomweb.bulkdata", read ? "success tag=" + tag : read.error().message, instance);
    if (!read && read.error().code == ErrorCode::kNotFound) throw Error(read.error());
    if (!read) return PixelFailure(read.error());
    bytes = std::move(*read);
  }
  const std::string boundary = PixelBoundary("dxhub-bulk-");
  std::string body = fmt::format("--{}\r\nContent-Type: {}\r\nContent-Location: {}/bulk/{}\r\n\r\n", boundary,
                                 kPixelOctetStream, url, tag);
  body.reserve(body.size() + bytes.size() + boundary.size() + 16);
  body += bytes;
  body += fmt::format("\r\n--{}--\r\n", boundary);
  return http::Response{200, fmt::format("multipart/related; type=\"{}\"; boundary={}", kPixelOctetStream, boundary),
                        std::move(body), {}};
}

// GET …/rendered and …/thumbnail of an instance or frame (PS3.18 §10.4.1.1.3, §10.4.1.1.4),
// and the thumbnail of a study or series.
http::Response PixelRenderedRoute(const http::Request& request, storage::InstanceIndex& index,
                                  storage::BlobStore& blobs, audit::AuditTrail& audit, bool thumbnail) {
  const char* action = thumbnail ? "dicomweb.thumbnail" : "dicomweb.rendered";
  auto format = PixelImageFormat(PixelHeader(request, "accept"));
  if (!format) return http::Response::Problem(406, "rendered images are available as image/jpeg or image/png");
  dicom::RenderOptions options = PixelRenderParameters(request);
  options.format = *format;
  if (auto frames = request.params.find("frames"); frames != request.params.end()) {
    const auto numbers = PixelFrameList(frames->second);
    if (numbers.size() != 1) throw Error(ErrorCode::kInvalidInput, "render one frame at a time");
    options.frame = numbers.front();
  }
  if (thumbnail && options.viewport_columns == 0) {
    options.viewport_columns = 128;
    options.viewport_rows = 128;
  }
  const storage::StoredInstance instance = PixelRepresentative(request, index, audit, action);
  auto image = dicom::RenderFrame(PixelBlobPath(blobs, instance), options);
  PixelAudit(audit, action, image ? "success" : image.error().message, instance);
  if (!image) return PixelFailure(image.error());
  return http::Response{200, PixelImageType(*format), std::move(*image), {}};
}

// GET /studies/{study}[/series/{series}]/rendered: every image instance rendered,
// streamed as multipart/related (PS3.18 §10.4.1.1.3); objects without pixel data or
// that cannot be decoded are left out.
http::Response PixelRenderedManyRoute(const http::Request& request, storage::InstanceIndex& index,
                                      storage::BlobStore& blobs, audit::AuditTrail& audit) {
  auto format = PixelImageFormat(PixelHeader(request, "accept"));
  if (!format) {
    return http::Response::Problem(
        406, "rendered studies and series are available as multipart/related; type=\"image/jpeg\" or \"image/png\"");
  }
  dicom::RenderOptions options = PixelRenderParameters(request);
  options.format = *format;
  auto list = PixelPathInstances(request, index, audit, "dicomweb.rendered");
  audit.Record({"http", "dicomweb.rendered", fmt::format("success instances={}", list.size()),
                PixelAuditEntities(request), ""});
  const std::string boundary = PixelBoundary("dxhub-rendered-");
  http::Response response;
  response.content_type =
      fmt::format("multipart/related; type=\"{}\"; boundary={}", PixelImageType(*format), boundary);
  response.stream = [&blobs, list = std::move(list), options, boundary](const http::ChunkWriter& write) {
    for (const auto& instance : list) {
      auto path = blobs.PathOf(instance.blob_key);
      if (!path) return false;
      auto image = dicom::RenderFrame(*path, options);
      if (!image) {
        if (image.error().code == ErrorCode::kInvalidInput || image.error().code == ErrorCode::kUnsupported) continue;
        return false;
      }
      if (!write(fmt::format("--{}\r\nContent-Type: {}\r\nContent-Location: {}/rendered\r\n\r\n", boundary,
                             PixelImageType(options.format), PixelInstanceUrl(instance))) ||
          !write(*image) || !write("\r\n")) {
        return false;
      }
    }
    return write(fmt::format("--{}--\r\n", boundary));
  };
  return response;
}

}  // namespace

void RegisterPixelRoutes(http::Router& router, storage::InstanceIndex& index, storage::BlobStore& blobs,
                         audit::AuditTrail& audit) {
  const std::string root = kRoot;
  const std::string study = root + "/studies/{study}";
  const std::string series = study + "/series/{series}";
  const std::string instance = series + "/instances/{instance}";
  router.Add("GET", instance + "/frames/{frames}", [&index, &blobs, &audit](const http::Request& request) {
    return PixelFramesRoute(request, index, blobs, audit);
  });
  router.Add("GET", instance + "/bulk/{tag}", [&index, &blobs, &audit](const http::Request& request) {
    return PixelBulkRoute(request, index, blobs, audit);
  });
  auto rendered = [&index, &blobs, &audit](bool thumbnail) {
    return [&index, &blobs, &audit, thumbnail](const http::Request& request) {
      return PixelRenderedRoute(request, index, blobs, audit, thumbnail);
    };
  };
  auto rendered_many = [&index, &blobs, &audit](const http::Request& request) {
    return PixelRenderedManyRoute(request, index, blobs, audit);
  };
  router.Add("GET", study + "/rendered", rendered_many);
  router.Add("GET", series + "/rendered", rendered_many);
  router.Add("GET", instance + "/rendered", rendered(false));
  router.Add("GET", instance + "/frames/{frames}/rendered", rendered(false));
  for (const std::string& path : {study, series, instance, instance + "/frames/{frames}"}) {
    router.Add("GET", path + "/thumbnail", rendered(true));
  }
}

}  // namespace dx::dicomweb
