// Routes HTTP requests to handlers by method and path pattern ("/studies/{study}").
// Routes are registered before the server starts; matching is then read-only
// and thread-safe.
#pragma once

#include <functional>
#include <map>
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

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;

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
