// Routes HTTP requests to handlers by method and path pattern ("/studies/{study}").
// Routes are registered before the server starts; matching is then read-only
// and thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dx::http {

struct Request {
  std::string method;
  std::string target;                           // path and query as received
  std::string path;                             // decoded path without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> params;    // values of {name} segments
  std::map<std::string, std::string> headers;   // lower-case names
  std::string body;
};

// Writes one piece of a streamed body; false when the client has gone.
using ChunkWriter = std::function<bool(std::string_view)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  // When set, the body is produced by this function piece by piece (sent with
  // chunked transfer coding) instead of `body`, so large answers are never held
  // in memory whole. It returns false to abort the response.
  std::function<bool(const ChunkWriter&)> stream;

  static Response Json(const nlohmann::json& value, int status = 200);
  // A problem report (RFC 9457 shape) naming what was wrong.
  static Response Problem(int status, const std::string& detail);
};

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  // The handler's response, 404 for an unknown path, 405 for a known path with another method.
  Response Dispatch(Request request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace dx::http
