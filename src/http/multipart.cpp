#include "http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace dx::http {
namespace {

std::string LowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string MediaType(std::string_view header_value) {
  return LowerCase(TrimSpace(header_value.substr(0, header_value.find(';'))));
}

std::string HeaderParameter(std::string_view header_value, std::string_view name) {
  std::size_t at = header_value.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = header_value.substr(at + 1);
    const std::size_t equals = rest.find('=');
    if (equals == std::string_view::npos) return {};
    const std::string key = LowerCase(TrimSpace(rest.substr(0, equals)));
    std::string_view value = TrimSpace(rest.substr(equals + 1));
    std::size_t next;
    std::string out;
    if (!value.empty() && value.front() == '"') {
      const std::size_t close = value.find('"', 1);
      if (close == std::string_view::npos) return {};
      out = std::string(value.substr(1, close - 1));
      next = value.find(';', close);
    } else {
      next = value.find(';');
      out = std::string(TrimSpace(value.substr(0, next)));
    }
    if (key == LowerCase(name)) return out;
    if (next == std::string_view::npos) return {};
    at = (value.data() - header_value.data()) + next;
  }
  return {};
}

Result<Multipart> ParseMultipartRelated(std::string_view content_type, std::string_view body) {
  if (MediaType(content_type) != "multipart/related") {
    return Fail(ErrorCode::kUnsupported, "the body must be multipart/related");
  }
  const std::string boundary = HeaderParameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 70) {
    return Fail(ErrorCode::kInvalidInput, "the multipart/related Content-Type has no valid boundary parameter");
  }
  Multipart out;
  out.type = LowerCase(HeaderParameter(content_type, "type"));
  const std::string delimiter = "--" + boundary;
  // The first delimiter may open the body or follow a preamble after CRLF.
  std::size_t position;
  if (body.substr(0, delimiter.size()) == delimiter) {
    position = 0;
  } else {
    position = body.find("\r\n" + delimiter);
    if (position == std::string_view::npos) return Fail(ErrorCode::kInvalidInput, "the body contains no boundary delimiter");
    position += 2;
  }
  const std::string next_delimiter = "\r\n" + delimiter;
  while (true) {
    position += delimiter.size();
    if (body.substr(position, 2) == "--") break;  // closing delimiter
    const std::size_t line_end = body.find("\r\n", position);
    if (line_end == std::string_view::npos) return Fail(ErrorCode::kInvalidInput, "a boundary line is not terminated");
    const std::size_t headers_end = body.find("\r\n\r\n", line_end);
    const std::size_t part_end = body.find(next_delimiter, line_end);
    if (part_end == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidInput, "the body ends without the closing boundary delimiter");
    }
    MultipartPart part;
    std::size_t content_start;
    if (headers_end != std::string_view::npos && headers_end < part_end) {
      std::string_view headers = body.substr(line_end + 2, headers_end - line_end - 2);
      while (!headers.empty()) {
        const std::size_t end = headers.find("\r\n");
        std::string_view line = headers.substr(0, end);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return Fail(ErrorCode::kInvalidInput, "a part header line has no colon");
        part.headers[LowerCase(TrimSpace(line.substr(0, colon)))] = std::string(TrimSpace(line.substr(colon + 1)));
        if (end == std::string_view::npos) break;
        headers.remove_prefix(end + 2);
      }
      content_start = headers_end + 4;
    } else if (body.substr(line_end, 4) == "\r\n\r\n") {
      content_start = line_end + 4;  // a part without headers
    } else {
      return Fail(ErrorCode::kInvalidInput, "a part has no blank line between its headers and its content");
    }
    part.body = body.substr(content_start, part_end - content_start);
    out.parts.push_back(std::move(part));
    position = part_end + 2;
  }
  if (out.parts.empty()) return Fail(ErrorCode::kInvalidInput, "the multipart body has no parts");
  return out;
}

}  // namespace dx::http
