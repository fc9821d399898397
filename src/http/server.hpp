// HTTP/1.1 server on Boost.Beast: keep-alive, a request size limit, and one
// Router for dispatch. Runs its own io_context on a small thread pool;
// handlers run on those threads and must be thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/error.hpp"
#include "http/router.hpp"

namespace dx::http {

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                            // 0 picks a free port
  int threads = 2;
  std::size_t max_body_bytes = 64u << 20;  // larger requests get 413
  std::size_t max_connections = 256;       // more open connections get 503
};

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; returns the bound port.
  Result<int> Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::http
