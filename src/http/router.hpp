// Routes HTTP requests to handlers by method and path pattern ("/studies/{study}"),
// through a chain of middleware (CORS, compression; authentication and audit plug
// in here too). Routes and middleware are registered before the server starts;
// dispatch is then read-only and thread-safe.
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
  // Facts middleware establishes for the handlers after it (for example the
  // authenticated user), by name.
  std::map<std::string, std::string> attributes;

  // The value of header `name` (lower case), or "" when absent.
  const std::string& Header(const std::string& name) const;
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

// The rest of the chain after a middleware: the following middleware, then the route.
using Next = std::function<Response(Request&)>;
// A step every request passes through: it may answer by itself (a refused login,
// a CORS preflight) or call `next` and amend what comes back.
using Middleware = std::function<Response(Request&, const Next& next)>;

class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  // Appends a middleware; the first added sees each request first and its answer last.
  void Use(Middleware middleware);

  // Runs the middleware chain, then the route: the handler's response, 404 for an
  // unknown path, 405 for a known path with another method. OPTIONS on a known path
  // without its own OPTIONS route answers 204 with the Allow header.
  Response Dispatch(Request request) const;

  // The methods routed at `path` (with HEAD where GET is, and OPTIONS), or empty
  // when no route matches the path.
  std::vector<std::string> AllowedMethods(const std::string& path) const;

 private:
  Response Run(std::size_t step, Request& request) const;
  Response RouteRequest(Request& request) const;

  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::vector<Middleware> middleware_;
};

}  // namespace dx::http
