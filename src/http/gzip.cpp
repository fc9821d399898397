#include "http/gzip.hpp"

#include <zlib.h>

#include <cctype>
#include <cstdlib>

namespace dx::http {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib's way of asking for a gzip wrapper

// A deflate stream writing gzip members; Feed compresses and passes on what it produced.
class Deflater {
 public:
  explicit Deflater(int level) {
    ok_ = deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&stream_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  bool Feed(std::string_view input, bool finish, const ChunkWriter& write) {
    if (!ok_) return false;
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    char out[64 * 1024];
    while (true) {
      stream_.next_out = reinterpret_cast<Bytef*>(out);
      stream_.avail_out = sizeof out;
      const int status = deflate(&stream_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (status == Z_STREAM_ERROR) return false;
      const std::size_t produced = sizeof out - stream_.avail_out;
      if (produced > 0 && !write(std::string_view(out, produced))) return false;
      if (finish ? status == Z_STREAM_END : (stream_.avail_in == 0 && stream_.avail_out != 0)) return true;
    }
  }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

// JSON, XML and text: the answers that shrink. Parameters after ';' are ignored.
bool Compressible(const std::string& content_type) {
  std::string_view type(content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  auto ends_with = [&](std::string_view suffix) {
    return type.size() >= suffix.size() && type.substr(type.size() - suffix.size()) == suffix;
  };
  return type.rfind("text/", 0) == 0 || ends_with("/json") || ends_with("+json") || ends_with("/xml") ||
         ends_with("+xml");
}

void AddVary(Response& response, const char* token) {
  auto& vary = response.headers["Vary"];
  vary = vary.empty() ? token : vary + ", " + token;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  // Codings with their weights; "gzip" (or its alias "x-gzip") wins over "*".
  double gzip_q = -1, any_q = -1;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    auto item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    auto semicolon = item.find(';');
    const std::string coding = Lower(Trim(item.substr(0, semicolon)));
    double q = 1;
    if (semicolon != std::string_view::npos) {
      auto param = Trim(item.substr(semicolon + 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        q = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
      }
    }
    if (coding == "gzip" || coding == "x-gzip") gzip_q = q;
    if (coding == "*") any_q = q;
  }
  return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

std::string GzipCompress(std::string_view data, int level) {
  std::string out;
  Deflater deflater(level);
  deflater.Feed(data, true, [&](std::string_view piece) {
    out.append(piece);
    return true;
  });
  return out;
}

Result<std::string> GzipDecompress(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, kGzipWindowBits) != Z_OK) return Fail(ErrorCode::kInternal, "zlib: cannot start inflate");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[64 * 1024];
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return Fail(ErrorCode::kInvalidInput, "not a complete gzip stream");
  return out;
}

Middleware Gzip(GzipOptions options) {
  return [options](Request& request, const Next& next) -> Response {
    Response response = next(request);
    if (response.headers.count("Content-Encoding") || response.status == 204 || response.status == 206 ||
        !Compressible(response.content_type)) {
      return response;
    }
    AddVary(response, "Accept-Encoding");
    if (!AcceptsGzip(request.Header("accept-encoding"))) return response;
    if (response.stream) {
      response.stream = [inner = std::move(response.stream), level = options.level](const ChunkWriter& write) {
        Deflater deflater(level);
        const bool complete = inner([&](std::string_view piece) { return deflater.Feed(piece, false, write); });
        return complete && deflater.Feed({}, true, write);
      };
    } else if (response.body.size() >= options.min_body_bytes) {
      response.body = GzipCompress(response.body, options.level);
    } else {
      return response;
    }
    response.headers["Content-Encoding"] = "gzip";
    return response;
  };
}

}  // namespace dx::http
